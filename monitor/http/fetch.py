"""HTTP as Claim Monitor speaks it: its User-Agent, how a `Retry-After` is read (by the crawler and the Slack
channel alike), and fetching one document for the CLI and web (the crawler has its own, Scrapy-based, path)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from monitor.errors import InputError
from monitor.http.safety import AddressPolicy, DestinationRefused
from monitor.http.transport import guarded_client

USER_AGENT = "ClaimMonitor/0.1 (news claim monitoring; +https://github.com/claim-monitor)"
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class FetchedDocument:
    url: str
    content: bytes
    content_type: str | None


def fetch_document(
    url: str,
    *,
    policy: AddressPolicy,
    client: httpx.Client | None = None,
    max_bytes: int = MAX_DOCUMENT_BYTES,
) -> FetchedDocument:
    """GET `url` (following redirects), refusing bodies over `max_bytes`; raise InputError with the reason.

    Only destinations `policy` allows are fetched: the URL itself (its scheme, a literal address), and by
    the default client every connection, redirects included (`monitor.http.transport`). A given `client` is
    trusted to connect where it should.
    """
    policy.check_url(url)
    own_client = client is None
    http = client or guarded_client(
        policy,
        timeout=httpx.Timeout(20.0, connect=10.0),
        follow_redirects=True,
        headers={"User-Agent": USER_AGENT},
    )
    try:
        with http.stream("GET", url) as response:
            if response.status_code >= 400:
                raise InputError(f"{url}: the server answered {response.status_code} {response.reason_phrase}")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise InputError(f"{url}: the document is larger than {max_bytes // (1024 * 1024)} MB")
                chunks.append(chunk)
            return FetchedDocument(str(response.url), b"".join(chunks), response.headers.get("content-type"))
    except DestinationRefused as exc:
        raise DestinationRefused(f"{url}: {exc}") from None
    except httpx.TimeoutException:
        raise InputError(f"{url}: timed out") from None
    except httpx.HTTPError as exc:
        raise InputError(f"{url}: {type(exc).__name__}: {exc}") from None
    finally:
        if own_client:
            http.close()


def retry_after_seconds(value: bytes | str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or an HTTP date); None if absent or bad."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
