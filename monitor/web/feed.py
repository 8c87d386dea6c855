"""The alerts as an Atom feed (RFC 4287), built with ElementTree so every text is escaped for XML.

Scraped text may hold characters XML 1.0 forbids (most control characters); they are dropped, because one
such character makes a feed reader reject the whole feed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from xml.etree import ElementTree

from alerts.render import safe_href, text_fragment_link
from monitor.catalog.queries import ListedMatch
from monitor.matching.evidence import Evidence
from monitor.web.highlight import evidence_lines

ATOM = "http://www.w3.org/2005/Atom"
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
ElementTree.register_namespace("", ATOM)


def xml_text(text: str | None) -> str:
    """`text` without the characters XML 1.0 cannot carry."""
    return _NOT_XML.sub("", text or "")


def _stamp(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _child(parent: ElementTree.Element, tag: str, text: str | None = None, **attributes: str) -> ElementTree.Element:
    element = ElementTree.SubElement(parent, f"{{{ATOM}}}{tag}", attributes)
    if text is not None:
        element.text = xml_text(text)
    return element


def _entry(feed: ElementTree.Element, item: ListedMatch, base_url: str) -> None:
    match, claim, article = item.match, item.claim, item.article
    entry = _child(feed, "entry")
    _child(entry, "id", f"{base_url}/matches?match={match.id}")
    _child(entry, "title", f"{match.verdict.upper()}: {claim.text}")
    _child(entry, "updated", _stamp(match.reviewed_at or match.created_at))
    _child(entry, "published", _stamp(match.created_at))
    _child(entry, "link", href=xml_text(safe_href(text_fragment_link(article.url, claim.text))), rel="alternate")
    _child(entry, "link", href=f"{base_url}/baseline/{item.baseline.id}", rel="related")
    author = _child(entry, "author")
    _child(author, "name", article.outlet or "unknown outlet")
    lines = [
        f"New: {claim.text}",
        f"Baseline: {item.baseline.text} ({item.baseline_article.title})",
        f"Article: {article.title or article.url}",
        f"Score: {match.score:.0f}",
        *evidence_lines(Evidence.from_json(match.evidence)),
    ]
    _child(entry, "summary", "\n".join(lines), type="text")
    _child(entry, "category", term=match.verdict)


def alerts_feed(items: Sequence[ListedMatch], *, base_url: str, now: datetime) -> bytes:
    """The Atom document for `items` (newest first); `base_url` is this site's address, without a slash."""
    feed = ElementTree.Element(f"{{{ATOM}}}feed")
    _child(feed, "id", f"{base_url}/feeds/alerts.xml")
    _child(feed, "title", "Claim Monitor alerts")
    _child(feed, "subtitle", "New coverage that repeats, updates or contradicts baseline claims")
    newest = max((item.match.reviewed_at or item.match.created_at for item in items), default=now, key=_stamp)
    _child(feed, "updated", _stamp(newest))
    _child(feed, "link", href=f"{base_url}/feeds/alerts.xml", rel="self")
    _child(feed, "link", href=f"{base_url}/matches", rel="alternate")
    _child(feed, "generator", "Claim Monitor")
    for item in items:
        _entry(feed, item, base_url)
    return ElementTree.tostring(feed, encoding="utf-8", xml_declaration=True)
