"""Sources to crawl: validation, storage and the bundled default list (monitor/defaults/sources.toml)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from sqlmodel import Session, col, select

from monitor.config import format_interval, parse_interval
from monitor.errors import DuplicateError, InputError, NotFoundError
from monitor.http.safety import AddressPolicy
from monitor.storage.models import Source, SourceKind

DEFAULT_SOURCES = Path(__file__).parent / "defaults" / "sources.toml"
MAX_URL_LENGTH = 2000
# No internal network allowed: what `add_source` checks against unless the caller's settings allow some.
PUBLIC_ADDRESSES_ONLY = AddressPolicy()


def clean_url(raw: str) -> str:
    """Validate an http(s) URL and normalise its scheme and host case; raise InputError otherwise."""
    url = raw.strip()
    if not url:
        raise InputError("URL is empty")
    if len(url) > MAX_URL_LENGTH:
        raise InputError(f"URL is {len(url)} characters long; the limit is {MAX_URL_LENGTH}")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise InputError(f"{url[:100]!r} is not an http(s) URL")
    if not parts.hostname or any(char.isspace() for char in url):
        raise InputError(f"{url[:100]!r} is not a valid URL (no host, or spaces)")
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query, ""))


def clean_kind(raw: str) -> SourceKind:
    try:
        return SourceKind(raw.strip().lower())
    except ValueError:
        choices = ", ".join(kind.value for kind in SourceKind)
        raise InputError(f"source kind {raw!r} is not one of {choices}") from None


def clean_every(raw: str | None) -> int | None:
    if raw is None:
        return None
    try:
        return int(parse_interval(raw).total_seconds())
    except ValueError as exc:
        raise InputError(f"--every: {exc}") from None


def describe_every(source: Source, default: str) -> str:
    if source.every_seconds is None:
        return f"{default} (default)"
    return format_interval(timedelta(seconds=source.every_seconds))


def add_source(
    session: Session,
    *,
    url: str,
    kind: str = "feed",
    every: str | None = None,
    outlet: str | None = None,
    language: str | None = None,
    enabled: bool = True,
    notes: str | None = None,
    policy: AddressPolicy = PUBLIC_ADDRESSES_ONLY,
) -> Source:
    """Add a source; raise InputError for a bad URL, kind or interval, DestinationRefused for an address
    `policy` refuses (a literal internal address; names are checked when crawled), DuplicateError if it
    exists."""
    url = clean_url(url)
    policy.check_url(url)
    row = Source(
        url=url,
        kind=clean_kind(kind),
        every_seconds=clean_every(every),
        outlet=(outlet or "").strip() or None,
        language=(language or "").strip() or None,
        enabled=enabled,
        notes=notes,
    )
    if session.exec(select(Source).where(Source.url == url)).first():
        raise DuplicateError(f"source {url} exists already")
    session.add(row)
    session.flush()
    return row


def get_source(session: Session, *, url: str) -> Source:
    try:
        key = clean_url(url)
    except InputError:
        key = url.strip()
    row = session.exec(select(Source).where(Source.url == key)).first()
    if row is None:
        raise NotFoundError(f"no source {url!r} (see `monitor sources list`)")
    return row


def remove_source(session: Session, *, url: str) -> Source:
    row = get_source(session, url=url)
    session.delete(row)
    session.flush()
    return row


def set_source_enabled(session: Session, *, url: str, enabled: bool) -> Source:
    row = get_source(session, url=url)
    row.enabled = enabled
    session.add(row)
    session.flush()
    return row


def list_sources(session: Session, *, enabled_only: bool = False) -> list[Source]:
    query = select(Source).order_by(col(Source.id))
    if enabled_only:
        query = query.where(Source.enabled == True)  # noqa: E712  (SQL expression, not a Python test)
    return list(session.exec(query))


@dataclass(frozen=True)
class DefaultSource:
    url: str
    kind: str
    outlet: str
    language: str | None
    enabled: bool
    notes: str | None


def read_default_sources(path: Path = DEFAULT_SOURCES) -> list[DefaultSource]:
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    sources = []
    for entry in data.get("source", []):
        notes = " ".join(part for part in (entry.get("confidence"), entry.get("evidence"), entry.get("notes")) if part)
        sources.append(
            DefaultSource(
                url=entry["url"],
                kind=entry.get("kind", "feed"),
                outlet=entry["outlet"],
                language=entry.get("language") or None,
                enabled=bool(entry.get("enabled", False)),
                notes=notes or None,
            )
        )
    return sources


def install_default_sources(session: Session, path: Path = DEFAULT_SOURCES) -> int:
    """Add the bundled sources that are missing; return how many were added."""
    existing = {row.url for row in list_sources(session)}
    added = 0
    for entry in read_default_sources(path):
        if clean_url(entry.url) in existing:
            continue
        add_source(
            session,
            url=entry.url,
            kind=entry.kind,
            outlet=entry.outlet,
            language=entry.language,
            enabled=entry.enabled,
            notes=entry.notes,
        )
        added += 1
    return added
