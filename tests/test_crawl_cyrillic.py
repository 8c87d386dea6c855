"""A crawl of Russian and Ukrainian coverage: its matches against the English baseline are stored with their
verdicts, the alert shows the Cyrillic sentence beside the baseline claim, and a sentence whose subject is
a pronoun borrows it from the sentence before."""

from __future__ import annotations

import json

import pytest
from alert_servers import running_smtp
from click.testing import CliRunner
from newssite.content import Page, render_article
from newssite.database import LOCAL_SITE_POLICY, prepare_crawl_database
from newssite.server import NewsSite
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from web_helpers import make_app, make_client

from monitor.catalog.sources import add_source
from monitor.cli import main
from monitor.storage.engine import session_scope
from monitor.storage.models import Article, BaselineClaim, Claim, Match

pytest_plugins = ["conftest_newssite"]

RU_PAGE = Page(
    path="/ru/2024/06/02/iskander",
    title="Лукашенко об ударах с территории Беларуси",
    published="2024-06-02T08:00:00+03:00",
    language="ru",
    paragraphs=(
        "Лукашенко подтвердил, что российская армия запускала ракеты «Искандер» с территории Беларуси.",
        "Позже пресс-служба президента опровергла, что российская армия запускала ракеты с территории Беларуси.",
        "В Минске прошёл международный шахматный турнир, в котором участвовали игроки из двенадцати стран.",
    ),
)
UK_PAGE = Page(
    path="/uk/2024/06/03/kordon",
    title="Україна зміцнює кордон з Білоруссю",
    published="2024-06-03T09:00:00+03:00",
    language="uk",
    paragraphs=(
        "Україна продовжує посилювати оборону кордону з Білоруссю, повідомили в прикордонній службі.",
        "Лукашенко відправив білоруські війська в Україну, всупереч своїй обіцянці Зеленському.",
    ),
)
EN_PAGE = Page(
    path="/en/2024/06/04/steadfast",
    title="Belarus keeps its army at home",
    published="2024-06-04T09:00:00+00:00",
    language="en",
    paragraphs=(
        "Lukashenko has promised that Belarusian troops will not be sent to Ukraine.",
        "But they have so far remained steadfastly in Belarus.",
    ),
)
PAGES = (RU_PAGE, UK_PAGE, EN_PAGE)


def _serve(site: NewsSite) -> str:
    items = "".join(
        f"<item><title>{page.title}</title><link>{site.url(page.path)}</link>"
        "<pubDate>Mon, 03 Jun 2024 09:00:00 GMT</pubDate></item>"
        for page in PAGES
    )
    feed = (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>East</title>{items}</channel></rss>'
    )
    site.extra_documents["/feeds/east.rss"] = ("application/rss+xml", feed.encode())
    for page in PAGES:
        site.extra_documents[page.path] = ("text/html; charset=utf-8", render_article(page).encode())
    return site.url("/feeds/east.rss")


def _local_source(engine: Engine, site: NewsSite) -> tuple[str, str]:
    """A crawl database whose one source is the local feed of `PAGES`: the database's URL and the feed's."""
    prepare_crawl_database(engine, site, keys=())
    feed = _serve(site)
    with session_scope(engine) as session:
        add_source(session, url=feed, policy=LOCAL_SITE_POLICY)
    return engine.url.render_as_string(hide_password=False), feed


def _matches(engine: Engine) -> dict[str, tuple[str, str, str | None, dict[str, object]]]:
    """Per stored claim text: (verdict, the baseline claim, the article's language, evidence)."""
    with Session(engine) as session:
        rows = session.exec(
            select(Match, Claim, BaselineClaim, Article)
            .join(Claim, Claim.id == Match.claim_id)
            .join(BaselineClaim, BaselineClaim.id == Match.baseline_claim_id)
            .join(Article, Article.id == Claim.article_id)
        ).all()
    return {
        claim.text: (match.verdict, baseline.text, article.language, dict(match.evidence or {}))
        for match, claim, baseline, article in rows
    }


def _all_matches(digest: object) -> list[dict[str, object]]:
    """Every match object in the digest's JSON, wherever the grouping puts it."""
    if isinstance(digest, dict):
        found = [digest] if "match_id" in digest else []
        return found + [match for value in digest.values() for match in _all_matches(value)]
    if isinstance(digest, list):
        return [match for item in digest for match in _all_matches(item)]
    return []


def test_russian_and_ukrainian_coverage_is_matched_alerted_and_shown_beside_the_baseline(
    sqlite_engine: Engine, news_site: NewsSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    database, feed = _local_source(sqlite_engine, news_site)
    runner = CliRunner()
    with running_smtp() as smtp:
        for name, value in {
            "MONITOR_SMTP_HOST": "127.0.0.1",
            "MONITOR_SMTP_PORT": str(smtp.port),
            "MONITOR_SMTP_STARTTLS": "false",
            "MONITOR_EMAIL_FROM": "monitor@example.org",
            "MONITOR_EMAIL_TO": "analyst@example.org",
        }.items():
            monkeypatch.setenv(name, value)
        crawled = runner.invoke(main, ["--db", database, "crawl", "--source", feed])
        assert crawled.exit_code == 0, crawled.output
        sent = runner.invoke(main, ["--db", database, "alerts", "send"])
        assert sent.exit_code == 0, sent.output
        [email] = smtp.handler.wait_for(1)

    matches = _matches(sqlite_engine)
    confirmed, denied, chess = RU_PAGE.paragraphs
    kept, sent_troops = UK_PAGE.paragraphs
    assert matches[confirmed][:3] == (
        "repeated",
        "Recently, Lukashenko confirmed the Russian Army fired Iskander missiles from Belarus.",
        "ru",
    )
    assert matches[denied][0] == "contradicted" and "Iskander" in matches[denied][1]
    assert chess not in matches, "a sentence about chess speaks to no baseline claim"
    assert matches[kept][0] == "repeated" and matches[kept][2] == "uk"
    assert matches[sent_troops][0] == "contradicted" and "will not deploy its troops" in matches[sent_troops][1]
    # The words that carried a Cyrillic match are in its evidence.
    carried = dict(tuple(pair) for pair in matches[confirmed][3]["carried_by"])  # type: ignore[attr-defined]
    assert carried["подтвердил"] == "confirmed"

    # The matches list, the API and the Matches page filter by the article's language.
    ukrainian = runner.invoke(main, ["--db", database, "matches", "list", "--json", "--language", "uk"])
    assert ukrainian.exit_code == 0, ukrainian.output
    assert {json.loads(line)["claim"] for line in ukrainian.output.splitlines()} == {kept, sent_troops}
    client = make_client(make_app(sqlite_engine))
    listed = client.get("/api/matches", params={"language": "ru"}).json()
    assert {item["claim"] for item in listed["items"]} == {confirmed, denied}
    assert client.get("/api/matches", params={"language": "r-u"}).status_code == 400
    page = client.get("/matches", params={"language": "uk"})
    assert page.status_code == 200 and kept in page.text and confirmed not in page.text
    assert '<option value="uk" selected>uk</option>' in page.text

    # The digest says which language each match's article is in.
    day = json.loads(runner.invoke(main, ["--db", database, "digest", "--format", "json"]).output)
    assert {str(match["language"]) for match in _all_matches(day) if match["claim"] in (confirmed, kept)} == {
        "ru",
        "uk",
    }
    assert "[uk]" in runner.invoke(main, ["--db", database, "digest"]).output

    # The alert shows each Cyrillic sentence next to the baseline claim it speaks to.
    body = email.get_body(preferencelist=("plain",)).get_content()
    for sentence in (confirmed, denied, kept, sent_troops):
        assert sentence in body
    assert "Recently, Lukashenko confirmed the Russian Army fired Iskander missiles from Belarus." in body


def test_a_sentence_that_names_nothing_borrows_its_subject_from_the_sentence_before(
    sqlite_engine: Engine, news_site: NewsSite
) -> None:
    database, feed = _local_source(sqlite_engine, news_site)
    crawled = CliRunner().invoke(main, ["--db", database, "crawl", "--source", feed])
    assert crawled.exit_code == 0, crawled.output

    before, pronoun = EN_PAGE.paragraphs
    verdict, baseline, _language, evidence = _matches(sqlite_engine)[pronoun]
    assert evidence["context"] == before
    # "they" are Belarus's troops, which stay home: what Lukashenko promised. Alone, the sentence names
    # nothing the baseline could be matched on.
    assert (verdict, "will not deploy its troops" in baseline) == ("repeated", True)


def test_the_match_threshold_setting_reaches_the_crawl(
    sqlite_engine: Engine, news_site: NewsSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`MONITOR_MATCH_THRESHOLD` is the crawl's threshold too: at 99.9 only a match scoring at least that is
    stored (the same pages give several matches at the calibrated default, see the test above)."""
    database, feed = _local_source(sqlite_engine, news_site)
    monkeypatch.setenv("MONITOR_MATCH_THRESHOLD", "99.9")
    crawled = CliRunner().invoke(main, ["--db", database, "crawl", "--source", feed])
    assert crawled.exit_code == 0, crawled.output
    with Session(sqlite_engine) as session:
        assert session.exec(select(Article)).all(), "the pages are stored"
        assert session.exec(select(Claim)).all(), "their claims are stored"
        scores = [match.score for match in session.exec(select(Match))]
    # At the default the same pages store at least five matches (the four Cyrillic sentences and the
    # pronoun one, see the tests above).
    assert len(scores) < 5 and all(score >= 99.9 for score in scores), scores
