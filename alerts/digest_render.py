"""The digest as plain text, HTML (Jinja2, autoescaped), JSON, and as a message for the channels."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session

from alerts.digest import DigestContent, HealthSummary, health_summary
from alerts.errors import AlertError
from alerts.render import RenderedMessage, escape_mrkdwn, slack_link, template_environment
from monitor.storage.models import Digest

_TEXT_ARTICLES_PER_TERM = 10  # the text digest lists this many articles per watch term; HTML lists all


def digest_subject(content: DigestContent) -> str:
    counts = content.verdict_counts()
    summary = ", ".join(f"{count} {verdict}" for verdict, count in counts.items()) or "no matches"
    return f"Claim Monitor digest for {content.day.isoformat()}: {summary}"


def digest_json(content: DigestContent) -> str:
    """The digest as one JSON document (what the `digests` table stores)."""
    return json.dumps(content.model_dump(mode="json"), ensure_ascii=False, indent=2)


def digest_html(content: DigestContent, *, web_url: str | None = None, sources_url: str | None = None) -> str:
    """A complete HTML page; every string from crawled pages is escaped by the template."""
    summary = health_summary(content)
    return (
        template_environment()
        .get_template("digest.html")
        .render(
            subject=digest_subject(content),
            digest=content,
            web_url=web_url,
            health=summary,
            health_headline=health_headline(summary),
            sources_url=sources_url,
        )
    )


def digest_text(content: DigestContent, *, sources_url: str | None = None) -> str:
    """The digest as plain text, sections in the order of the HTML page: matches first, crawl health last
    and short (a count, the shared reason, a few examples, where to see every source)."""
    lines = [digest_subject(content), f"Day: {content.day.isoformat()} ({content.timezone})", ""]
    lines += _matches_text(content)
    lines += _coverage_text(content)
    lines += _health_text(content, sources_url)
    return "\n".join(lines).rstrip() + "\n"


def _matches_text(content: DigestContent) -> list[str]:
    lines = [f"MATCHES ({content.match_count})"]
    if not content.verdicts:
        lines.append("  none")
    for section in content.verdicts:
        lines += ["", f"{section.verdict.upper()} ({section.count})"]
        for group in section.groups:
            lines.append(f"  Baseline: “{group.baseline_claim}”")
            lines.append(f"    from {group.baseline_article}, {group.baseline_published}")
            for match in group.matches:
                lines.append(f"    - “{match.claim}” (score {match.score:.0f})")
                language = f" [{match.language}]" if match.language and match.language != "en" else ""
                lines.append(f"      {match.outlet or 'unknown outlet'}, {match.published}{language}: {match.link}")
                lines += [f"      Evidence: {line}" for line in match.evidence]
    if content.outlets:
        lines += ["", "Outlets: " + ", ".join(f"{o.outlet} ({o.matches})" for o in content.outlets)]
    return [*lines, ""]


def _coverage_text(content: DigestContent) -> list[str]:
    lines = [f"NEW ARTICLES ({content.articles_count})"]
    if not content.watch_terms:
        lines.append("  none")
    for term in content.watch_terms:
        lines.append(f"  {term.term}: {len(term.articles)}")
        for article in term.articles[:_TEXT_ARTICLES_PER_TERM]:
            lines.append(f"    - {article.title or article.url} ({article.outlet or 'unknown outlet'})")
        if len(term.articles) > _TEXT_ARTICLES_PER_TERM:
            lines.append(f"    … and {len(term.articles) - _TEXT_ARTICLES_PER_TERM} more")
    if content.new_outlets:
        lines.append("New outlets: " + ", ".join(content.new_outlets))
    return [*lines, ""]


def health_headline(summary: HealthSummary) -> str | None:
    """`24 sources failing; 20 of them: DNS lookup failed`, or None when nothing failed."""
    if not summary.failing:
        return None
    noun = "source" if summary.failing == 1 else "sources"
    if summary.reason is None or summary.sharing < 2:
        return f"{summary.failing} {noun} failing"
    shared = "all" if summary.sharing == summary.failing else f"{summary.sharing} of them"
    return f"{summary.failing} {noun} failing; {shared}: {summary.reason}"


def _health_text(content: DigestContent, sources_url: str | None = None) -> list[str]:
    lines = [f"CRAWL HEALTH ({content.crawl_runs} crawl runs)"]
    if content.healthy:
        lines.append("  all sources healthy")
    summary = health_summary(content)
    headline = health_headline(summary)
    if headline:
        lines.append(f"  {headline}")
        lines += [f"    - {line}" for line in summary.lines]
        if summary.more:
            lines.append(f"    … and {summary.more} more")
        lines.append(f"  Every source: {sources_url or 'the Sources page (/sources) or `monitor sources list`'}")
    for run in content.partial_runs:
        lines.append(f"  partial run {run.crawl_run_id}: {run.reason}")
    for alert in content.failed_alerts:
        lines.append(f"  failed alert {alert.alert_id} ({alert.channel}, {alert.carries}): {alert.last_error}")
    return lines


def digest_slack_blocks(content: DigestContent, *, web_url: str | None) -> list[dict[str, Any]]:
    """A summary: counts per verdict, the baseline claims most spoken to, health, and the link."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": digest_subject(content)[:150]}}
    ]
    lines = []
    for section in content.verdicts:
        claims = "; ".join(escape_mrkdwn(group.baseline_claim) for group in section.groups[:3])
        more = f" (+{len(section.groups) - 3} more)" if len(section.groups) > 3 else ""
        lines.append(f"*{section.verdict}* {section.count}: {claims}{more}")
    lines.append(f"New articles: {content.articles_count}; new outlets: {len(content.new_outlets)}")
    if not content.healthy:
        headline = health_headline(health_summary(content)) or "sources healthy"
        partial = f", {len(content.partial_runs)} partial runs" if content.partial_runs else ""
        lines.append(f"Health: {escape_mrkdwn(headline)}; {len(content.failed_alerts)} failed alerts{partial}")
    if web_url:
        lines.append(slack_link(web_url, "Open the digest"))
    blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)[:3000]}})
    return blocks


def render_digest_message(content: DigestContent, *, key: str, web_base_url: str | None) -> RenderedMessage:
    """The digest in every form the channels need; Slack gets a summary with a link to the web page."""
    web_url = f"{web_base_url.rstrip('/')}/digests/{content.day.isoformat()}" if web_base_url else None
    sources_url = f"{web_base_url.rstrip('/')}/sources" if web_base_url else None
    subject = digest_subject(content)
    return RenderedMessage(
        key=key,
        subject=subject,
        text=digest_text(content, sources_url=sources_url) + (f"\nWeb: {web_url}\n" if web_url else ""),
        html=digest_html(content, web_url=web_url, sources_url=sources_url),
        slack_text=escape_mrkdwn(subject),
        slack_blocks=digest_slack_blocks(content, web_url=web_url),
    )


def load_digest_message(session: Session, *, digest_id: int, key: str, web_base_url: str | None) -> RenderedMessage:
    """The message for a stored digest; the build time joins `key`, so an explicit resend is a new message."""
    row = session.get(Digest, digest_id)
    if row is None:
        raise AlertError(f"digest {digest_id} no longer exists")
    content = DigestContent.model_validate(row.content)
    stamp = row.built_at.strftime("%Y%m%dT%H%M%S%f")
    return render_digest_message(content, key=f"{key}.{stamp}", web_base_url=web_base_url)
