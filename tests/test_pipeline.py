"""The article pipeline and the stored-coverage queries, on SQLite and PostgreSQL (the `engine` fixture)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from newssite.content import EN_SITEMAP_ONLY, EN_TROOPS, OFF_TOPIC, SYNDICATED_COPY
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from monitor.catalog.baseline_store import load_bundled_baseline
from monitor.catalog.queries import article_json, list_articles, list_matches, match_json, parse_since, stored_urls
from monitor.catalog.watch_terms import install_default_watch_terms
from monitor.cli import main
from monitor.ingest.dedup import NearDuplicateIndex, content_hash, shingle_similarity
from monitor.ingest.model import IncomingArticle, IngestOutcome
from monitor.ingest.pipeline import ArticleIngestor
from monitor.storage.engine import session_scope
from monitor.storage.models import Article, Claim, Match, MetaEntry

SITE = "https://news.example.org"


def _incoming(page: object, path: str | None = None) -> IncomingArticle:
    url = SITE + (path or page.path)  # type: ignore[attr-defined]
    return IncomingArticle(
        url=url,
        canonical_url=url,
        text="\n".join(page.paragraphs),  # type: ignore[attr-defined]
        title=page.title,  # type: ignore[attr-defined]
        outlet="Border Desk",
        author=page.author,  # type: ignore[attr-defined]
        published=datetime.fromisoformat(page.published),  # type: ignore[attr-defined]
        language=page.language,  # type: ignore[attr-defined]
    )


@pytest.fixture
def prepared(engine: Engine) -> Engine:
    with session_scope(engine) as session:
        load_bundled_baseline(session)
        install_default_watch_terms(session)
    return engine


def _count(engine: Engine, model: type) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


class RecordingHook:
    """An `on_matches` hook that writes a row per match in the caller's transaction, and remembers calls."""

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[list[int], int | None, bool]] = []
        self.fail = fail

    def __call__(self, session: Session, matches: Sequence[Match], crawl_run_id: int | None) -> None:
        self.calls.append(([m.id for m in matches if m.id is not None], crawl_run_id, session.in_transaction()))
        for match in matches:
            session.add(MetaEntry(key=f"outbox:{match.id}", value=match.verdict))
        if self.fail:
            raise RuntimeError("the outbox is broken")


def test_new_article_is_stored_with_claims_matches_and_the_hook_in_one_transaction(prepared: Engine) -> None:
    hook = RecordingHook()
    ingestor = ArticleIngestor.for_crawl_run(prepared, on_matches=hook)
    result = ingestor.ingest(_incoming(EN_TROOPS))

    assert result.outcome is IngestOutcome.new
    assert set(result.watch_terms) >= {"Belarus", "Kyiv", "Lukashenko", "Minsk"}
    assert result.claims == _count(prepared, Claim) > 0
    # The planted sentences: two repeats, an update (9,000 troops) and a contradiction ("did not allow").
    assert result.verdicts["repeated"] >= 2 and result.verdicts["updated"] >= 1
    assert result.verdicts["contradicted"] >= 1
    with Session(prepared) as session:
        match_ids = sorted(m.id for m in session.exec(select(Match)) if m.id is not None)
        outbox = session.exec(select(MetaEntry).where(MetaEntry.key.startswith("outbox:"))).all()
    assert hook.calls == [(match_ids, None, True)]
    assert len(outbox) == len(match_ids) == sum(result.verdicts.values())


def test_a_failing_hook_stores_nothing_of_the_article(prepared: Engine) -> None:
    ingestor = ArticleIngestor.for_crawl_run(prepared, on_matches=RecordingHook(fail=True))
    with pytest.raises(RuntimeError, match="outbox is broken"):
        ingestor.ingest(_incoming(EN_TROOPS))
    assert (_count(prepared, Article), _count(prepared, Claim), _count(prepared, Match)) == (0, 0, 0)
    # Nothing half-written: the next attempt stores it whole.
    assert ArticleIngestor.for_crawl_run(prepared).ingest(_incoming(EN_TROOPS)).outcome is IngestOutcome.new


def test_off_topic_article_is_counted_not_stored(prepared: Engine) -> None:
    result = ArticleIngestor.for_crawl_run(prepared).ingest(_incoming(OFF_TOPIC))
    assert result.outcome is IngestOutcome.not_on_topic
    assert _count(prepared, Article) == 0


def test_same_canonical_url_is_already_seen(prepared: Engine) -> None:
    ingestor = ArticleIngestor.for_crawl_run(prepared)
    first = ingestor.ingest(_incoming(EN_TROOPS))
    again = ingestor.ingest(replace(_incoming(EN_TROOPS), url=SITE + EN_TROOPS.path + "?amp=1", text="Minsk."))
    assert (first.outcome, again.outcome) == (IngestOutcome.new, IngestOutcome.already_seen)
    assert _count(prepared, Article) == 1


def test_syndicated_copy_is_linked_to_the_original_and_not_matched_again(prepared: Engine) -> None:
    ingestor = ArticleIngestor.for_crawl_run(prepared)
    original = ingestor.ingest(_incoming(EN_TROOPS))
    claims_before, matches_before = _count(prepared, Claim), _count(prepared, Match)
    copy = ingestor.ingest(_incoming(SYNDICATED_COPY))
    assert copy.outcome is IngestOutcome.duplicate
    assert copy.duplicate_of_id == original.article_id
    assert (_count(prepared, Claim), _count(prepared, Match)) == (claims_before, matches_before)
    with Session(prepared) as session:
        stored = session.get(Article, copy.article_id)
        assert stored is not None and stored.duplicate_of_id == original.article_id


def test_copies_are_found_by_a_later_run_too(prepared: Engine) -> None:
    original = ArticleIngestor.for_crawl_run(prepared).ingest(_incoming(EN_TROOPS))
    later = ArticleIngestor.for_crawl_run(prepared)  # a new crawl run: sketches loaded from the database
    copy = later.ingest(_incoming(SYNDICATED_COPY))
    assert (copy.outcome, copy.duplicate_of_id) == (IngestOutcome.duplicate, original.article_id)
    # Same words in other case and spacing: found by the content hash as well.
    shouted = replace(_incoming(EN_TROOPS, "/shouted"), text=_incoming(EN_TROOPS).text.upper())
    assert later.ingest(shouted).duplicate_of_id == original.article_id


def test_articles_sharing_a_few_sentences_are_both_kept(prepared: Engine) -> None:
    ingestor = ArticleIngestor.for_crawl_run(prepared)
    ingestor.ingest(_incoming(EN_TROOPS))
    mixed = replace(
        _incoming(EN_SITEMAP_ONLY),
        text=_incoming(EN_SITEMAP_ONLY).text + "\n" + EN_TROOPS.paragraphs[1] + "\n" + EN_TROOPS.paragraphs[2],
    )
    assert ingestor.ingest(mixed).outcome is IngestOutcome.new


def test_near_duplicate_index_and_similarity() -> None:
    text = "\n".join(EN_TROOPS.paragraphs)
    index = NearDuplicateIndex()
    index.add(1, text)
    index.add(2, "\n".join(EN_SITEMAP_ONLY.paragraphs))
    assert index.candidates(text + " This story first appeared elsewhere.") == [1]
    assert index.candidates("\n".join(OFF_TOPIC.paragraphs)) == []
    assert shingle_similarity(text, text) == 1.0
    assert content_hash("Minsk,  KYIV.") == content_hash("minsk kyiv")


# -- queries and their CLI ----------------------------------------------------------------------------


def test_queries_give_the_design_json_shapes(prepared: Engine) -> None:
    ingestor = ArticleIngestor.for_crawl_run(prepared)
    ingestor.ingest(_incoming(EN_TROOPS))
    ingestor.ingest(_incoming(SYNDICATED_COPY))
    with Session(prepared) as session:
        articles = [article_json(a) for a in list_articles(session)]
        matches = [match_json(row) for row in list_matches(session)]
        updated = list_matches(session, verdict="updated")
        assert stored_urls(session, [SITE + EN_TROOPS.path, SITE + "/unknown"]) == {SITE + EN_TROOPS.path}
        assert list_articles(session, since=parse_since("2030-01-01")) == []
        assert len(list_articles(session, since=parse_since("2024-05-01"))) == 2
    assert list(articles[0]) == ["id", "url", "title", "outlet", "published", "language", "watch_terms"]
    assert articles[0]["published"] == "2024-05-14T09:30:00+00:00"
    assert articles[0]["language"] == "en" and "Belarus" in articles[0]["watch_terms"]
    assert list(matches[0]) == [
        "id", "verdict", "score", "claim", "article_url", "baseline_claim_id", "baseline_claim", "evidence"
    ]  # fmt: skip
    assert {m["verdict"] for m in matches} == {"repeated", "updated", "contradicted"}
    assert all(m["article_url"] == SITE + EN_TROOPS.path for m in matches)
    assert [match_json(row)["verdict"] for row in updated] == ["updated"]


def test_articles_and_matches_list_commands(prepared: Engine) -> None:
    ArticleIngestor.for_crawl_run(prepared).ingest(_incoming(EN_TROOPS))
    url = prepared.url.render_as_string(hide_password=False)
    runner = CliRunner()
    result = runner.invoke(main, ["--db", url, "articles", "list", "--json"])
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["url"] for line in result.output.splitlines()] == [SITE + EN_TROOPS.path]
    result = runner.invoke(main, ["--db", url, "matches", "list", "--json", "--verdict", "contradicted"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [row["verdict"] for row in rows] == ["contradicted"]
    assert "did not allow" in rows[0]["claim"] and rows[0]["evidence"]
    table = runner.invoke(main, ["--db", url, "articles", "list"])
    assert table.exit_code == 0 and EN_TROOPS.title[:30] in table.output
    bad = runner.invoke(main, ["--db", url, "matches", "list", "--since", "last week"])
    assert bad.exit_code == 1 and "--since" in bad.output


def test_parse_since_reads_dates_as_utc() -> None:
    assert parse_since("2024-05-01") == datetime(2024, 5, 1, tzinfo=UTC)
    assert parse_since("2024-05-01T08:00") == datetime(2024, 5, 1, 8, tzinfo=UTC)
    assert parse_since(None) is None
