"""What a run leaves for the next one (issue 11): fetched addresses are remembered, a source gives at most
MONITOR_CRAWL_MAX_ITEMS links a run (newest first), a run cut short says partial and how much was left,
and a run whose process is gone is closed as failed."""

from __future__ import annotations

import os
import socket
import subprocess
from dataclasses import replace
from datetime import UTC, datetime

from click.testing import CliRunner
from newssite.content import EN_TROOPS, OFF_TOPIC, RU_ARTICLE, SYNDICATED_COPY, UK_ARTICLE
from newssite.database import prepare_crawl_database
from newssite.server import NewsSite
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from test_crawl import TEST_LIMITS
from web_helpers import make_app, make_client

from alerts.digest import build_digest, local_today
from monitor.catalog.sources import add_source
from monitor.cli import main
from monitor.config import load_settings
from monitor.crawling.runs import run_crawl
from monitor.crawling.stale_runs import close_orphaned_runs
from monitor.demo.site import LOCAL_SITE_POLICY
from monitor.storage.engine import session_scope
from monitor.storage.models import CrawlRun, CrawlStatus, FetchedUrl

pytest_plugins = ["conftest_newssite"]

# Newest first by publication date: the order a capped run takes them in.
DATED_PAGES = (
    (SYNDICATED_COPY, "Fri, 17 May 2024 09:00:00 GMT"),
    (OFF_TOPIC, "Thu, 16 May 2024 09:00:00 GMT"),
    (EN_TROOPS, "Wed, 15 May 2024 09:00:00 GMT"),
    (UK_ARTICLE, "Tue, 14 May 2024 09:00:00 GMT"),
    (RU_ARTICLE, "Mon, 13 May 2024 09:00:00 GMT"),
)


def _dated_feed(site: NewsSite) -> bytes:
    # Oldest first in the document: the cap must pick by date, not by position.
    items = "".join(
        f"<item><title>{page.title}</title><link>{site.url(page.path)}</link><pubDate>{when}</pubDate></item>"
        for page, when in reversed(DATED_PAGES)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>{items}</channel></rss>'.encode()


def test_a_capped_source_is_taken_newest_first_over_several_runs_and_nothing_is_fetched_twice(
    sqlite_engine: Engine, news_site: NewsSite
) -> None:
    prepare_crawl_database(sqlite_engine, news_site, keys=())
    news_site.extra_documents["/feeds/wire.rss"] = ("application/rss+xml", _dated_feed(news_site))
    with session_scope(sqlite_engine) as session:
        add_source(session, url=news_site.url("/feeds/wire.rss"), policy=LOCAL_SITE_POLICY)
    limits = replace(TEST_LIMITS, max_items_per_source=2)

    runs = [run_crawl(sqlite_engine, limits=limits) for _ in range(4)]

    pages = {page.path for page, _when in DATED_PAGES}
    fetched_in_order = [request.path for request in news_site.requests if request.path in pages]
    assert sorted(fetched_in_order) == sorted(pages)  # every page, each once
    assert [run.report.left_for_later for run in runs] == [3, 1, 0, 0]
    assert [sum(run.report.articles.values()) - run.report.articles["skipped_known"] for run in runs] == [2, 2, 1, 0]
    newest_two = {page.path for page, _when in DATED_PAGES[:2]}
    assert set(fetched_in_order[:2]) == newest_two
    with Session(sqlite_engine) as session:
        remembered = {row.url: row.outcome for row in session.exec(select(FetchedUrl))}
        first = session.get(CrawlRun, runs[0].crawl_run_id)
    # The off-topic page is remembered as such, so no run fetches it again.
    assert remembered[news_site.url(OFF_TOPIC.path)] == "not_on_topic"
    assert set(remembered) == {news_site.url(page.path) for page, _when in DATED_PAGES}
    assert first is not None and first.stats["left_for_later"] == 3 and first.stats["partial"] is False
    assert first.host == socket.gethostname() and first.pid


def test_a_run_stopped_by_its_time_limit_is_partial_in_the_cli_the_record_the_digest_and_the_web(
    sqlite_engine: Engine, news_site: NewsSite
) -> None:
    prepare_crawl_database(sqlite_engine, news_site, keys=("hard",))
    database = sqlite_engine.url.render_as_string(hide_password=False)

    result = CliRunner().invoke(main, ["--db", database, "crawl", "--quiet", "--time-limit", "1"])

    assert result.exit_code == 0, result.output
    first_line = result.output.splitlines()[0]
    assert first_line.startswith("Crawl run 1: 1 source, finished, partial: time limit of 1 s reached; left for")
    with Session(sqlite_engine) as session:
        run = session.get(CrawlRun, 1)
        assert run is not None and run.status == CrawlStatus.finished
        assert run.stats["partial"] is True and run.stats["finish_reason"] == "closespider_timeout"
        assert run.stats["partial_reason"].startswith("time limit of 1 s reached; left for the next run: ")
        assert run.stats["left"]["articles"] >= 1
        settings = load_settings()
        digest = build_digest(session, day=local_today(settings.zone), zone=settings.zone)
    assert [(partial.crawl_run_id, partial.reason) for partial in digest.partial_runs] == [
        (1, run.stats["partial_reason"])
    ]
    assert not digest.healthy
    today = make_client(make_app(sqlite_engine, now=datetime.now(UTC))).get("/")
    assert "partial: time limit of 1 s reached" in today.text


def test_runs_whose_process_is_gone_are_closed_as_failed_and_live_ones_are_kept(engine: Engine) -> None:
    gone = _exited_pid()
    host = socket.gethostname()
    with session_scope(engine) as session:
        runs = {
            "gone": CrawlRun(host=host, pid=gone),
            "alive": CrawlRun(host=host, pid=os.getpid()),
            "followed": CrawlRun(host=host, pid=gone),
            "elsewhere": CrawlRun(host="another-host", pid=gone),
            "finished": CrawlRun(host=host, pid=gone, status=CrawlStatus.finished),
        }
        session.add_all(runs.values())
        session.flush()
        ids = {name: run.id for name, run in runs.items()}

    closed = close_orphaned_runs(engine, keep={ids["followed"]})

    assert closed == [ids["gone"]]
    with Session(engine) as session:
        states = {name: session.get(CrawlRun, run_id) for name, run_id in ids.items()}
    orphan = states["gone"]
    assert orphan is not None and orphan.status == CrawlStatus.failed and orphan.finished_at is not None
    assert (
        orphan.error == f"the crawl process ({host}, pid {gone}) ended without recording this run (a database outage?)"
    )
    assert orphan.stats["partial"] is True
    assert {name: run.status for name, run in states.items() if run is not None and name != "gone"} == {
        "alive": CrawlStatus.running,
        "followed": CrawlStatus.running,
        "elsewhere": CrawlStatus.running,
        "finished": CrawlStatus.finished,
    }


def _exited_pid() -> int:
    """The id of a process that has exited and been reaped."""
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid
