"""The crawl's parallel pipeline: the raw-page screen, the claim screen, analysis apart from storage, and
worker processes that die with their parent."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pytest
from newssite.content import (
    ALL_PAGES,
    EN_SITEMAP_ONLY,
    EN_TROOPS,
    OFF_TOPIC,
    RU_ARTICLE,
    SYNDICATED_COPY,
    render_article,
)
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from monitor.catalog.baseline_store import load_bundled_baseline
from monitor.catalog.watch_terms import install_default_watch_terms, read_default_terms
from monitor.ingest.analyse import ArticleAnalyzer
from monitor.ingest.dedup import TextFingerprint, content_hash, text_sketch
from monitor.ingest.model import IncomingArticle, IngestOutcome
from monitor.ingest.pipeline import ArticleIngestor
from monitor.ingest.screen import WatchTermMatcher, WatchTermScreen
from monitor.ingest.write import ArticleWriter
from monitor.matching import ClaimMatcher, MatchResult
from monitor.matching.normalize import ClaimAnalysis
from monitor.storage.engine import make_engine, migrate, session_scope
from monitor.storage.models import Article, Claim, Match
from spiders.extraction import extract_article
from spiders.items import FetchedArticle
from spiders.lifetime import die_with_parent
from spiders.workers import PageAnalyzer, ProcessedArticle

SITE = "https://news.example.org"
DEFAULT_TERMS = [(entry.term, list(entry.aliases)) for entry in read_default_terms()]
# An off-topic page on a site whose menus do not name a watch term either (the test site's do).
FLOWER_SHOW = f"""<html><head><title>{OFF_TOPIC.title}</title></head>
<body><nav><a href="/">Home</a> <a href="/gardens">Gardens</a></nav><article><h1>{OFF_TOPIC.title}</h1>
{"".join(f"<p>{paragraph} The organisers expect many visitors this year.</p>" for paragraph in OFF_TOPIC.paragraphs)}
</article></body></html>"""


@pytest.fixture
def prepared(engine: Engine) -> Engine:
    with session_scope(engine) as session:
        load_bundled_baseline(session)
        install_default_watch_terms(session)
    return engine


def _incoming(page: Any, path: str | None = None) -> IncomingArticle:
    url = SITE + (path or page.path)
    return IncomingArticle(url=url, canonical_url=url, text="\n".join(page.paragraphs), title=page.title)


def _count(engine: Engine, model: type) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


# -- the raw-page screen ------------------------------------------------------------------------------


def test_the_screen_passes_every_page_whose_extracted_text_is_on_topic() -> None:
    screen, matcher = WatchTermScreen(DEFAULT_TERMS), WatchTermMatcher(DEFAULT_TERMS)
    for page in ALL_PAGES:
        html = render_article(page)
        extracted = extract_article(html, SITE + page.path)
        assert extracted is not None
        on_topic = bool(matcher.matches(f"{extracted.title}\n{extracted.text}"))
        assert screen.may_match(html) or not on_topic, page.path


@pytest.mark.parametrize(
    "html",
    [
        "<p>Talks in <b>M</b>insk ended.</p>",  # a word split by markup
        "<p>Talks in &#77;insk ended.</p>",  # a character reference
        "<p>Lukašenka spoke.</p>",  # an accent the alias does not have
        "<p>ЛУКАШЕНКО выступил.</p>",  # upper case, Cyrillic
        "<p>Growth < 5% in Lukašenka’s plan, <b>he</b> said.</p>",  # a bare "<" in text cuts nothing away
        '<script type="application/ld+json">{"headline": "\\u041c\\u0438\\u043d\\u0441\\u043a"}</script>',
    ],
)
def test_the_screen_is_loose_where_extraction_could_find_a_term(html: str) -> None:
    assert WatchTermScreen(DEFAULT_TERMS).may_match(f"<html><body>{html}</body></html>")


def test_the_screen_reads_a_feed_title_and_rejects_pages_without_any_term() -> None:
    screen = WatchTermScreen(DEFAULT_TERMS)
    assert not screen.may_match(FLOWER_SHOW)
    assert not screen.may_match(FLOWER_SHOW, None, "Flowers")
    assert screen.may_match(FLOWER_SHOW, "Belarus: flowers at the border")


def test_an_off_topic_page_is_not_extracted(prepared: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_extraction(*args: object) -> None:
        raise AssertionError("an off-topic page was extracted")

    monkeypatch.setattr("spiders.workers.extract_article", no_extraction)
    pages = PageAnalyzer(ArticleAnalyzer.from_database(prepared))
    item = FetchedArticle(
        url=SITE + OFF_TOPIC.path,
        final_url=SITE + OFF_TOPIC.path,
        body=FLOWER_SHOW.encode(),
        content_type="text/html; charset=utf-8",
        source_id=None,
        source_url=SITE + "/feed",
    )
    result = pages.analyze(item)
    assert isinstance(result, ProcessedArticle) and result.result is not None
    assert result.result.outcome is IngestOutcome.not_on_topic


# -- claims and matches ---------------------------------------------------------------------------------


class CountingMatcher:
    """Wraps a `ClaimMatcher` and records what `match_many` was asked."""

    def __init__(self, matcher: ClaimMatcher) -> None:
        self.inner = matcher
        self.index = matcher.index
        self.calls: list[list[str]] = []

    def match_many(
        self,
        texts: Sequence[str],
        *,
        top_k: int = 3,
        analyses: Sequence[ClaimAnalysis] | None = None,
        contexts: Sequence[str | None] | None = None,
    ) -> list[MatchResult]:
        self.calls.append(list(texts))
        return self.inner.match_many(texts, top_k=top_k, analyses=analyses, contexts=contexts)


def test_claims_sharing_no_baseline_term_are_not_matched_and_the_rest_in_one_call(prepared: Engine) -> None:
    analyzer = ArticleAnalyzer.from_database(prepared)
    counting = CountingMatcher(analyzer.claim_matcher)
    analyzer.claim_matcher = counting  # type: ignore[assignment]
    unrelated = "Zebras graze quietly beside flamingos."
    claims = [*EN_TROOPS.paragraphs[:3], unrelated]
    results = analyzer.match_claims(claims)
    assert counting.calls == [list(EN_TROOPS.paragraphs[:3])]
    assert results[3] is None
    # What the matcher says of the claim it was not asked about: nothing shares a term.
    assert counting.inner.match(unrelated).verdict == "none"
    assert [r.text for r in results[:3] if r is not None] == list(EN_TROOPS.paragraphs[:3])


def test_fingerprints_agree_with_the_hash_and_sketch_of_the_text() -> None:
    text = "\n".join(EN_TROOPS.paragraphs)
    fingerprint = TextFingerprint.of(text)
    assert fingerprint.digest == content_hash(text)
    assert fingerprint.sketch == text_sketch(text)


# -- one writer for analyses made in parallel ----------------------------------------------------------


def test_copies_analyzed_at_the_same_moment_are_linked_not_matched_twice(prepared: Engine) -> None:
    # Two analyzer processes may finish a story and its syndicated copy before either is stored.
    analyzers = ArticleAnalyzer.from_database(prepared), ArticleAnalyzer.from_database(prepared)
    original = analyzers[0].analyze(_incoming(EN_TROOPS))
    copy = analyzers[1].analyze(_incoming(SYNDICATED_COPY))
    again = analyzers[1].analyze(_incoming(EN_TROOPS))
    assert original is not None and copy is not None and again is not None
    assert copy.claims, "the copy was analyzed in full"
    writer = ArticleWriter.for_crawl_run(prepared)
    stored = writer.write(original)
    claims, matches = _count(prepared, Claim), _count(prepared, Match)
    linked = writer.write(copy)
    seen = writer.write(again)
    assert stored.outcome is IngestOutcome.new and stored.verdicts
    assert (linked.outcome, linked.duplicate_of_id) == (IngestOutcome.duplicate, stored.article_id)
    assert seen.outcome is IngestOutcome.already_seen
    assert (_count(prepared, Article), _count(prepared, Claim), _count(prepared, Match)) == (2, claims, matches)


def test_the_ingestor_and_the_analyzer_writer_pair_store_the_same(prepared: Engine, tmp_path: Path) -> None:
    via_ingestor = ArticleIngestor.for_crawl_run(prepared).ingest(_incoming(EN_TROOPS))
    other = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    migrate(other)
    with session_scope(other) as session:
        load_bundled_baseline(session)
        install_default_watch_terms(session)
    analyzed = ArticleAnalyzer.from_database(other).analyze(_incoming(EN_TROOPS))
    assert analyzed is not None
    via_writer = ArticleWriter.for_crawl_run(other).write(analyzed)
    other.dispose()
    assert (via_writer.outcome, via_writer.claims, via_writer.verdicts) == (
        via_ingestor.outcome,
        via_ingestor.claims,
        via_ingestor.verdicts,
    )


def test_articles_analyzed_together_get_what_each_gets_alone(prepared: Engine) -> None:
    analyzer = ArticleAnalyzer.from_database(prepared)
    articles = [_incoming(EN_TROOPS), _incoming(OFF_TOPIC), _incoming(EN_SITEMAP_ONLY), _incoming(RU_ARTICLE)]
    together = analyzer.analyze_many(articles)
    alone = [analyzer.analyze(article) for article in articles]
    assert together[1] is None and alone[1] is None
    assert together == alone


def test_a_batch_is_written_in_one_transaction_with_copies_inside_it_linked(prepared: Engine) -> None:
    analyzer = ArticleAnalyzer.from_database(prepared)
    original, copy, again, other = analyzer.analyze_many(
        [_incoming(EN_TROOPS), _incoming(SYNDICATED_COPY), _incoming(EN_TROOPS), _incoming(EN_SITEMAP_ONLY)]
    )
    assert original is not None and copy is not None and again is not None and other is not None
    writer = ArticleWriter.for_crawl_run(prepared)
    results = writer.write_many([original, copy, again, other])
    assert not [result for result in results if isinstance(result, Exception)]
    stored, linked, seen, second = results
    assert not isinstance(stored, Exception) and not isinstance(linked, Exception)
    assert not isinstance(seen, Exception) and not isinstance(second, Exception)
    assert stored.outcome is IngestOutcome.new and stored.verdicts
    assert (linked.outcome, linked.duplicate_of_id) == (IngestOutcome.duplicate, stored.article_id)
    assert seen.outcome is IngestOutcome.already_seen
    assert second.outcome is IngestOutcome.new
    assert _count(prepared, Article) == 3
    assert _count(prepared, Claim) == len(original.claims) + len(other.claims)
    # The next batch finds the copy's original among the writer's sketches, now committed.
    later = writer.write_many([replace(copy, article=replace(copy.article, canonical_url=SITE + "/wire/2"))])
    assert not isinstance(later[0], Exception)
    assert (later[0].outcome, later[0].duplicate_of_id) == (IngestOutcome.duplicate, stored.article_id)


def test_an_article_that_cannot_be_stored_costs_only_itself(prepared: Engine) -> None:
    analyzer = ArticleAnalyzer.from_database(prepared)
    first, second = analyzer.analyze_many([_incoming(EN_TROOPS), _incoming(EN_SITEMAP_ONLY)])
    assert first is not None and second is not None
    calls: list[int] = []

    def outbox(session: Session, matches: Sequence[Match], crawl_run_id: int | None) -> None:
        calls.append(len(matches))
        if len(calls) % 2 == 0:  # the second article's hook: in the batch, then on its own
            raise RuntimeError("the outbox is broken")

    writer = ArticleWriter.for_crawl_run(prepared, on_matches=outbox)
    results = writer.write_many([first, second])
    # The batch was rolled back and written again one by one: the first article stored, the second not.
    assert len(calls) == 4
    assert not isinstance(results[0], Exception) and results[0].outcome is IngestOutcome.new
    assert isinstance(results[1], RuntimeError)
    with Session(prepared) as session:
        urls = set(session.exec(select(Article.canonical_url)))
    assert urls == {_incoming(EN_TROOPS).canonical_url}
    assert _count(prepared, Claim) == len(first.claims)


# -- dying with the parent -------------------------------------------------------------------------------


def _sleep_after_dying_with_parent(report: Connection) -> None:
    report.send(die_with_parent())
    time.sleep(60)


def _start_grandchild(report: Connection) -> None:
    grandchild = multiprocessing.get_context("spawn").Process(target=_sleep_after_dying_with_parent, args=(report,))
    grandchild.start()
    report.send(grandchild.pid)
    time.sleep(60)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by init) counts as gone.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux only")
def test_a_worker_dies_when_its_parent_is_killed() -> None:
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    parent = context.Process(target=_start_grandchild, args=(sender,))
    parent.start()
    grandchild_pid = receiver.recv()
    assert receiver.recv() is True  # the grandchild asked for the signal
    assert parent.pid is not None
    os.kill(parent.pid, signal.SIGKILL)
    parent.join()
    deadline = time.monotonic() + 10
    while _alive(grandchild_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(grandchild_pid)
