"""The daily digest: the day cut in the digest's time zone, grouping, health, formats, sending once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alert_servers import SmtpReceiver, running_smtp
from click.testing import CliRunner
from factories import article, baseline_claim, crawl_run, match, source
from sqlalchemy.engine import Engine

from alerts.digest import DigestContent, build_digest, send_digest, stored_digest
from alerts.digest_render import digest_html, digest_json, digest_text
from monitor.catalog.queries import day_window
from monitor.cli import main
from monitor.storage.engine import make_engine, migrate, session_scope
from monitor.storage.models import CrawlStatus, ReviewStatus

KYIV = ZoneInfo("Europe/Kyiv")
DAY = date(2024, 5, 2)


def _empty_database(url: str) -> str:
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    return url


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2024, 5, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def coverage(engine: Engine) -> Engine:
    """Matches on both sides of the Kyiv day (UTC+3), with a dismissed one and a failing source."""
    with session_scope(engine) as session:
        troops = baseline_claim(session, text="Belarus has 12,000-15,000 troops near the border.")
        war = baseline_claim(session, text="Belarus will not join the war.", title="Minsk's line")

        def found(text: str, verdict: str, baseline: object, at: datetime, **fields: object) -> None:
            match(
                session,
                baseline=baseline,  # type: ignore[arg-type]
                claim_text=text,
                verdict=verdict,
                created_at=at,
                fetched_at=at,
                **fields,  # type: ignore[arg-type]
            )

        # 23:30 UTC on the 1st is 02:30 on the 2nd in Kyiv: in. 20:30 UTC on the 1st is 23:30 on the 1st: out.
        found("Belarus has 9,000 troops near the border.", "updated", troops, utc(1, 23, 30), outlet="Kyiv Post")
        found("Belarus had 20,000 troops.", "updated", troops, utc(1, 20, 30), outlet="Early Bird")
        found("Belarus will join the war <script>x</script>.", "contradicted", war, utc(2, 9), outlet="Minsk Daily")
        found("Belarus will stay out of the war.", "repeated", war, utc(2, 10), outlet="Kyiv Post")
        found("Belarus has 12,000 troops.", "repeated", troops, utc(2, 21, 30), outlet="Late Wire")  # 00:30 on 3rd
        found(
            "A dismissed sentence.",
            "contradicted",
            troops,
            utc(2, 11),
            outlet="Noise Gazette",
            review_status=ReviewStatus.dismissed,
        )
        article(session, outlet="Kyiv Post", fetched_at=utc(1, 10), watch_terms=["Lukashenka"])  # earlier day
        article(session, outlet="Kyiv Post", fetched_at=utc(2, 12), watch_terms=["Lukashenka", "Belarus"])
        source(session, url="https://broken.example/feed", failures=3, last_error="HTTP 503 <b>down</b>")
        source(session, url="https://fine.example/feed")
        crawl_run(
            session,
            status=CrawlStatus.finished,
            started_at=utc(2, 8),
            errors=[{"source": "https://slow.example/rss", "url": "https://slow.example/a1", "reason": "timeout"}],
        )
    return engine


def test_the_day_is_cut_in_the_digest_time_zone() -> None:
    assert day_window(DAY, KYIV) == (utc(1, 21), utc(2, 21))
    # The autumn DST change makes 27 October 2024 a 25-hour day in Kyiv.
    start, end = day_window(date(2024, 10, 27), KYIV)
    assert (end - start).total_seconds() == 25 * 3600


def test_matches_grouped_by_verdict_then_baseline_claim_dismissed_excluded(coverage: Engine) -> None:
    with session_scope(coverage) as session:
        content = build_digest(session, day=DAY, zone=KYIV)
    assert content.match_count == 3
    assert content.verdict_counts() == {"contradicted": 1, "updated": 1, "repeated": 1}
    assert [(s.verdict, [g.baseline_claim for g in s.groups]) for s in content.verdicts] == [
        ("contradicted", ["Belarus will not join the war."]),
        ("updated", ["Belarus has 12,000-15,000 troops near the border."]),
        ("repeated", ["Belarus will not join the war."]),
    ]
    [updated] = content.verdicts[1].groups[0].matches
    assert updated.claim == "Belarus has 9,000 troops near the border."
    assert updated.evidence == ["figure changed: 12,000-15,000 -> 9,000"]
    assert "#:~:text=Belarus%20has%209%2C000%20troops%20near%20the%20border." in updated.link
    assert [(o.outlet, o.matches) for o in content.outlets] == [("Kyiv Post", 2), ("Minsk Daily", 1)]
    assert "A dismissed sentence." not in digest_json(content)


def test_new_articles_per_watch_term_new_outlets_and_crawl_health(coverage: Engine) -> None:
    with session_scope(coverage) as session:
        content = build_digest(session, day=DAY, zone=KYIV)
    terms = {term.term: len(term.articles) for term in content.watch_terms}
    assert terms == {"Belarus": 5, "Lukashenka": 1}
    assert content.articles_count == 5
    # Kyiv Post published on the 1st (Kyiv time) too, so it is not new; Minsk Daily is.
    assert content.new_outlets == ["Minsk Daily", "Noise Gazette"]
    assert [(s.url, s.consecutive_failures, s.last_error) for s in content.failing_sources] == [
        ("https://broken.example/feed", 3, "HTTP 503 <b>down</b>")
    ]
    [problem] = content.crawl_errors
    assert (problem.source, problem.url, problem.reason) == (
        "https://slow.example/rss",
        "https://slow.example/a1",
        "timeout",
    )


def test_text_html_and_json(coverage: Engine) -> None:
    with session_scope(coverage) as session:
        content = build_digest(session, day=DAY, zone=KYIV)
    text = digest_text(content)
    assert text.startswith("Claim Monitor digest for 2024-05-02: 1 contradicted, 1 updated, 1 repeated\n")
    assert text.index("CONTRADICTED (1)") < text.index("UPDATED (1)") < text.index("REPEATED (1)")
    assert "  2 sources failing\n" in text
    assert "    - https://broken.example/feed: HTTP 503 <b>down</b>\n" in text
    assert "    - https://slow.example/rss: timeout\n" in text

    html = digest_html(content, web_url="http://127.0.0.1:8000/digests/2024-05-02")
    assert "<script>" not in html and "join the war &lt;script&gt;x&lt;/script&gt;." in html
    assert "<b>down</b>" not in html and "HTTP 503 &lt;b&gt;down&lt;/b&gt;" in html
    assert 'href="http://127.0.0.1:8000/digests/2024-05-02"' in html

    data = json.loads(digest_json(content))
    assert DigestContent.model_validate(data) == content
    assert data["day"] == "2024-05-02" and data["timezone"] == "Europe/Kyiv"


def test_sending_a_day_twice_queues_once_and_resend_requeues(coverage: Engine) -> None:
    with session_scope(coverage) as session:
        first = send_digest(session, day=DAY, zone=KYIV, channels=["email", "slack"])
    assert first.channels == {"email": "queued", "slack": "queued"}
    with session_scope(coverage) as session:
        again = send_digest(session, day=DAY, zone=KYIV, channels=["email", "slack"])
        assert stored_digest(session, DAY) == again.content
    assert again.channels == {"email": "already pending", "slack": "already pending"}
    assert again.digest_id == first.digest_id
    with session_scope(coverage) as session:  # resend only revives rows that were settled
        assert send_digest(session, day=DAY, zone=KYIV, channels=["email"], resend=True).channels == {
            "email": "already pending"
        }


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    with running_smtp() as receiver:
        yield receiver


def test_cli_digest_send_twice_sends_once_resend_sends_again(
    tmp_path: Path, smtp: SmtpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONITOR_DATABASE_URL", _empty_database(f"sqlite:///{tmp_path / 'cli.db'}"))
    monkeypatch.setenv("MONITOR_TIMEZONE", "Europe/Kyiv")
    monkeypatch.setenv("MONITOR_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("MONITOR_SMTP_PORT", str(smtp.port))
    monkeypatch.setenv("MONITOR_SMTP_STARTTLS", "false")
    monkeypatch.setenv("MONITOR_EMAIL_FROM", "monitor@example.org")
    monkeypatch.setenv("MONITOR_EMAIL_TO", "analyst@example.org")
    runner = CliRunner()

    first = runner.invoke(main, ["digest", "--date", "2024-05-02", "--send"])
    assert first.exit_code == 0, first.output
    assert "email: digest for 2024-05-02 queued" in first.output and "sent      email" in first.output
    second = runner.invoke(main, ["digest", "--date", "2024-05-02", "--send"])
    assert "already sent (use --resend to send it again)" in second.output
    assert len(smtp.messages) == 1
    third = runner.invoke(main, ["digest", "--date", "2024-05-02", "--send", "--resend"])
    assert "email: digest for 2024-05-02 requeued" in third.output
    messages = smtp.handler.wait_for(2)
    assert len(messages) == 2
    assert messages[0]["Subject"] == "Claim Monitor digest for 2024-05-02: no matches"
    assert messages[0]["Message-ID"] != messages[1]["Message-ID"]  # a resend is a new message, on purpose

    listed = runner.invoke(main, ["alerts", "list", "--status", "sent"])
    assert "digest 2024-05-02" in listed.output
    assert runner.invoke(main, ["digest", "--resend"]).exit_code == 2


def test_cli_digest_formats(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITOR_DATABASE_URL", _empty_database(f"sqlite:///{tmp_path / 'cli.db'}"))
    runner = CliRunner()
    as_json = runner.invoke(main, ["digest", "--date", "2024-05-02", "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.output)["timezone"] == "Europe/Minsk"
    as_html = runner.invoke(main, ["digest", "--date", "2024-05-02", "--format", "html"])
    assert as_html.output.startswith("<!DOCTYPE html>")
    as_text = runner.invoke(main, ["digest", "--date", "2024-05-02"])
    assert "MATCHES (0)" in as_text.output and "all sources healthy" in as_text.output


def test_text_fragment_links_encode_the_directive_and_shorten_long_sentences() -> None:
    from alerts.render import text_fragment_link

    short = text_fragment_link("https://news.example/a#top", "Up to 12,000-15,000 troops & tanks.")
    assert short == "https://news.example/a#:~:text=Up%20to%2012%2C000%2D15%2C000%20troops%20%26%20tanks."
    long = text_fragment_link(
        "https://news.example/b",
        "Belarus said on Tuesday that it would never join the war, the president's office told reporters.",
    )
    assert long == (
        "https://news.example/b#:~:text=Belarus%20said%20on%20Tuesday%20that,"
        "the%20president%27s%20office%20told%20reporters."
    )


def test_digest_message_for_slack_is_an_escaped_summary_with_the_link(coverage: Engine) -> None:
    from alerts.digest_render import render_digest_message

    with session_scope(coverage) as session:
        content = build_digest(session, day=DAY, zone=KYIV)
    message = render_digest_message(content, key="k", web_base_url="http://127.0.0.1:8000")
    summary = message.slack_blocks[1]["text"]["text"]
    assert "<http://127.0.0.1:8000/digests/2024-05-02|Open the digest>" in summary
    assert "*contradicted* 1: Belarus will not join the war." in summary
    assert "Health: 2 sources failing; 0 failed alerts" in summary
    assert "Web: http://127.0.0.1:8000/digests/2024-05-02" in message.text


def test_an_outage_is_a_short_summary_after_the_matches(engine: Engine) -> None:
    with session_scope(engine) as session:
        match(session, created_at=utc(2, 9), fetched_at=utc(2, 9))
        errors = [
            {"source": f"https://s{n}.example/feed", "url": f"https://s{n}.example/feed", "reason": "DNS lookup failed"}
            for n in range(22)
        ]
        errors += [{"source": "https://t.example/rss", "reason": "HTTP 500"}]
        crawl_run(session, status=CrawlStatus.failed, started_at=utc(2, 8), errors=errors)
        source(
            session,
            url="https://s0.example/feed",
            failures=4,
            last_error="DNS lookup failed",
            last_crawled_at=utc(2, 8),
        )
    with session_scope(engine) as session:
        content = build_digest(session, day=DAY, zone=KYIV)
    text = digest_text(content, sources_url="https://m.example/sources")
    assert len(text.splitlines()) < 40
    assert text.index("MATCHES (1)") < text.index("CRAWL HEALTH")
    assert "  23 sources failing; 22 of them: DNS lookup failed\n" in text
    assert "    … and 18 more\n" in text and "Every source: https://m.example/sources" in text
    html = digest_html(content, sources_url="https://m.example/sources")
    assert "23 sources failing; 22 of them: DNS lookup failed" in html and "… and 18 more" in html
    assert 'href="https://m.example/sources"' in html


def test_an_earlier_days_digest_does_not_list_todays_failures(engine: Engine) -> None:
    with session_scope(engine) as session:
        source(session, url="https://down.example/feed", failures=2, last_error="timeout", last_crawled_at=utc(3, 9))
        source(session, url="https://old.example/feed", failures=9, last_error="HTTP 404", last_crawled_at=utc(2, 9))
    with session_scope(engine) as session:
        yesterday = build_digest(session, day=DAY, zone=KYIV)
        today = build_digest(session, day=date(2024, 5, 3), zone=KYIV)
    assert [s.url for s in yesterday.failing_sources] == ["https://old.example/feed"]
    assert {s.url for s in today.failing_sources} == {"https://down.example/feed", "https://old.example/feed"}
