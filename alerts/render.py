"""Messages for a batch of matches: plain text, HTML (Jinja2, autoescaped) and Slack Block Kit.

Rendering is pure: it takes `MatchView`s and returns a `RenderedMessage`; channels pick the parts they use.
Every string that came from a crawled page is escaped for the medium it lands in (HTML by Jinja2's
autoescape, Slack mrkdwn by `escape_mrkdwn`), so a headline such as `<script>` or `<!channel>` stays text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any
from urllib.parse import quote, urldefrag

from jinja2 import Environment, PackageLoader, StrictUndefined

from monitor.catalog.queries import VERDICT_ORDER, MatchView
from monitor.matching.evidence import SCORE_MEANING, Evidence

# Slack refuses more than 50 blocks in a message and more than 3,000 characters in a section's text.
SLACK_MAX_BLOCKS = 50
SLACK_MAX_SECTION_CHARS = 3000
_FRAGMENT_WORDS = 5  # a long sentence is linked by its first and last words (a `start,end` text fragment)


@dataclass(frozen=True)
class RenderedMessage:
    """One message in every form a channel may need; `key` is stable for the same batch of alerts."""

    key: str
    subject: str
    text: str
    html: str
    slack_text: str
    slack_blocks: list[dict[str, Any]] = field(default_factory=list)
    match_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class BaselineGroup:
    """The matches of one batch that speak to the same baseline claim, strongest verdict first."""

    baseline: MatchView  # any member; carries the baseline claim's fields
    matches: tuple[MatchView, ...]


@cache
def template_environment() -> Environment:
    """The Jinja2 environment over `alerts/templates/`, autoescaping every template."""
    environment = Environment(
        loader=PackageLoader("alerts", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["day"] = format_day
    environment.filters["fragment_link"] = lambda view: safe_href(text_fragment_link(view.article_url, view.claim_text))
    environment.filters["href"] = safe_href
    environment.filters["evidence"] = describe_evidence
    return environment


def safe_href(url: str | None) -> str:
    """`url` when it is http(s), else `#`: a stored address must never become a `javascript:` link."""
    if url and url.lower().startswith(("https://", "http://")):
        return url
    return "#"


def escape_mrkdwn(text: str) -> str:
    """Escape `&`, `<` and `>` as Slack asks, so scraped text cannot form links or @-mentions."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _encode_fragment_part(text: str) -> str:
    # Text directives give `,` `-` and `&` a meaning, so they (and everything not unreserved) are
    # percent-encoded; quote() leaves `-` alone, hence the extra step.
    return quote(text, safe="").replace("-", "%2D")


def text_fragment_link(url: str, sentence: str) -> str:
    """`url` with a `#:~:text=` fragment that scrolls to (and highlights) `sentence` in the browser.

    A short sentence is quoted whole; a long one as `first words,last words`, which survives small
    differences in the middle (whitespace, quotes) between our extracted text and the page.
    """
    base, _old_fragment = urldefrag(url)
    words = sentence.split()
    if not words:
        return base
    if len(words) <= 2 * _FRAGMENT_WORDS:
        directive = _encode_fragment_part(" ".join(words))
    else:
        start = " ".join(words[:_FRAGMENT_WORDS])
        end = " ".join(words[-_FRAGMENT_WORDS:])
        directive = f"{_encode_fragment_part(start)},{_encode_fragment_part(end)}"
    return f"{base}#:~:text={directive}"


def format_day(value: date | datetime | None) -> str:
    """An ISO date, or "undated"."""
    if value is None:
        return "undated"
    if isinstance(value, datetime):
        value = value.date()
    return value.isoformat()


def describe_evidence(evidence: Evidence) -> list[str]:
    """Human lines for a match's evidence: `Evidence.lines`, the one wording every channel and page uses."""
    return evidence.lines()


def _verdict_rank(verdict: str) -> int:
    return VERDICT_ORDER.index(verdict) if verdict in VERDICT_ORDER else len(VERDICT_ORDER)


def group_by_baseline(views: Iterable[MatchView]) -> list[BaselineGroup]:
    """Group matches by baseline claim; groups and their members ordered strongest verdict, then score."""
    members: dict[int, list[MatchView]] = {}
    for view in views:
        members.setdefault(view.baseline_claim_id, []).append(view)
    groups = [
        BaselineGroup(
            baseline=items[0],
            matches=tuple(sorted(items, key=lambda v: (_verdict_rank(v.verdict), -v.score, v.match_id))),
        )
        for items in members.values()
    ]
    groups.sort(key=lambda g: (_verdict_rank(g.matches[0].verdict), -g.matches[0].score))
    return groups


def verdict_summary(views: Iterable[MatchView]) -> str:
    """`2 contradicted, 1 updated`: the counts per verdict, strongest first."""
    counts = Counter(view.verdict for view in views)
    ordered = sorted(counts, key=_verdict_rank)
    return ", ".join(f"{counts[verdict]} {verdict}" for verdict in ordered)


def review_link(web_base_url: str | None, view: MatchView) -> str | None:
    """The match on Claim Monitor's Matches page (its baseline claim's matches, scrolled to it), where it
    is confirmed or dismissed; None without a web address."""
    if not web_base_url:
        return None
    return f"{web_base_url.rstrip('/')}/matches?claim={view.baseline_claim_id}#match-{view.match_id}"


def render_match_batch(
    views: Sequence[MatchView], *, key: str, crawl_run_id: int | None = None, web_base_url: str | None = None
) -> RenderedMessage:
    """One message for a batch of matches (one crawl run), grouped by baseline claim. With `web_base_url`
    (MONITOR_PUBLIC_URL), each match links back to Claim Monitor, to be confirmed or dismissed there."""
    if not views:
        raise ValueError("a message needs at least one match")
    groups = group_by_baseline(views)
    run = f" (crawl run {crawl_run_id})" if crawl_run_id is not None else ""
    count = len(views)
    subject = f"Claim Monitor: {verdict_summary(views)}{run}"
    intro = f"{count} new match{'es' if count != 1 else ''} with baseline claims{run}."
    html = (
        template_environment()
        .get_template("alerts.html")
        .render(
            subject=subject,
            intro=intro,
            groups=groups,
            review_url=lambda view: review_link(web_base_url, view),
            score_meaning=SCORE_MEANING,
        )
    )
    return RenderedMessage(
        key=key,
        subject=subject,
        text=_match_batch_text(subject, intro, groups, web_base_url),
        html=html,
        slack_text=escape_mrkdwn(f"{subject}: {intro}"),
        slack_blocks=_match_batch_blocks(subject, groups, web_base_url),
        match_ids=tuple(view.match_id for view in views),
    )


def _baseline_line(view: MatchView) -> str:
    source = view.baseline_title + (f", {view.baseline_outlet}" if view.baseline_outlet else "")
    return f"{source}, {format_day(view.baseline_published)}"


def _new_source_line(view: MatchView) -> str:
    outlet = view.outlet or "unknown outlet"
    title = f" ({view.article_title})" if view.article_title else ""
    language = f" [{view.language}]" if view.language and view.language != "en" else ""
    return f"{outlet}, {format_day(view.published or view.fetched_at)}{language}{title}"


def _match_batch_text(
    subject: str, intro: str, groups: Sequence[BaselineGroup], web_base_url: str | None = None
) -> str:
    lines = [subject, "", intro]
    for group in groups:
        baseline = group.baseline
        lines += ["", f"Baseline claim: “{baseline.baseline_claim_text}”", f"  from {_baseline_line(baseline)}"]
        for view in group.matches:
            lines += [
                "",
                f"  {view.verdict.upper()} (score {view.score:.0f})",
                f"  New: “{view.claim_text}”",
                f"  {_new_source_line(view)}",
                f"  {text_fragment_link(view.article_url, view.claim_text)}",
            ]
            lines += [f"  Evidence: {line}" for line in describe_evidence(view.evidence)]
            link = review_link(web_base_url, view)
            if link:
                lines.append(f"  Confirm or dismiss: {link}")
    lines += ["", SCORE_MEANING]
    return "\n".join(lines) + "\n"


def _section(text: str) -> dict[str, Any]:
    if len(text) > SLACK_MAX_SECTION_CHARS:
        text = text[: SLACK_MAX_SECTION_CHARS - 1] + "…"
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def slack_link(url: str, label: str) -> str:
    """A mrkdwn link; `|` and `>` in the URL are percent-encoded so they cannot end the link early.

    A URL that is not http(s) is not linked at all: only the escaped label is shown.
    """
    if safe_href(url) == "#":
        return escape_mrkdwn(label)
    safe_url = url.replace("|", "%7C").replace(">", "%3E").replace("<", "%3C").replace("&", "&amp;")
    return f"<{safe_url}|{escape_mrkdwn(label)}>"


def _match_blocks(view: MatchView, web_base_url: str | None = None) -> dict[str, Any]:
    evidence = describe_evidence(view.evidence)
    parts = [
        f"*{view.verdict.upper()}* · score {view.score:.0f}",
        f">{escape_mrkdwn(view.claim_text)}",
        slack_link(text_fragment_link(view.article_url, view.claim_text), _new_source_line(view)),
    ]
    if evidence:
        parts.append("Evidence: " + escape_mrkdwn("; ".join(evidence)))
    link = review_link(web_base_url, view)
    if link:
        parts.append(slack_link(link, "Confirm or dismiss in Claim Monitor"))
    return _section("\n".join(parts))


def _match_batch_blocks(
    subject: str, groups: Sequence[BaselineGroup], web_base_url: str | None = None
) -> list[dict[str, Any]]:
    # Header blocks take plain_text, which Slack never parses for mentions or links.
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": subject[:150]}}]
    shown = 0
    total = sum(len(group.matches) for group in groups)
    for group in groups:
        if len(blocks) + 3 > SLACK_MAX_BLOCKS - 2:  # room for "…and N more" and the score's meaning
            break
        baseline = group.baseline
        blocks.append({"type": "divider"})
        blocks.append(
            _section(
                f"*Baseline claim:* {escape_mrkdwn(baseline.baseline_claim_text)}\n"
                f"_{escape_mrkdwn(_baseline_line(baseline))}_"
            )
        )
        for view in group.matches:
            if len(blocks) >= SLACK_MAX_BLOCKS - 2:
                break
            blocks.append(_match_blocks(view, web_base_url))
            shown += 1
    if shown < total:
        blocks.append(_section(f"…and {total - shown} more: see `monitor matches list`."))
    blocks.append({"type": "context", "elements": [{"type": "plain_text", "text": SCORE_MEANING}]})
    return blocks
