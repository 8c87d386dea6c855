"""The crawler that stays up, and scale-out on scrapy-redis: latency, CPU per pass, two workers against one.

(a) `service`: `monitor run` on SQLite with 25 unreachable sources (127.0.0.2, a closed port: refused at
    once, as on a machine whose network is down) and one local feed due every minute. Figures: seconds from
    the scheduler's start (when the new feed falls due) to the feed's first request, seconds from
    `monitor run` starting to the feed's 6 articles stored, and the number of APScheduler "maximum number
    of running instances" lines in the service's log over (at least) one interval of the feed.
(b) `pass_cpu`: CPU seconds (this process and every child) of one pass over 25 (quick: 8) local feeds of 4 articles
    each, run as the service runs it (`make_launcher`, two crawl threads), for commit e2aa88a (before: a
    Scrapy process per source) and for this tree (after: one crawler that stays up), in one run. The
    before tree is a temporary `git worktree` under /tmp, removed afterwards.
(c) `scaleout`: 2,000 articles behind 20 feeds, PostgreSQL and Redis, `monitor crawler` workers (item
    pipeline off: the bare-fetch part); the site answers each article after 300 ms, like a remote
    server, and each worker keeps 8 requests in flight. Figure: article pages fetched per second with two workers
    over one.

Only loopback is used. Run: `.venv/bin/python bench/bench_scaleout.py [--quick] [--only service|pass_cpu|scaleout]`.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from _common import REPO_DIR, Figures

BEFORE_COMMIT = "e2aa88a"
POSTGRES_ADMIN_URL = os.environ.get(
    "MONITOR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("MONITOR_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SKIPPED_LINE = "maximum number of running instances"
# How long the scale-out site takes to answer an article, as a remote server does: the crawl is then bound
# by requests in flight, as on the web, not by these 2 shared cores (a worker's CPU per page is the same).
REMOTE_LATENCY = 0.3


# -- a local site: N feeds of M articles each ---------------------------------------------------------


def _article(n: int, big: bool) -> bytes:
    sentences = " ".join(
        f"Belarus moved {n % 90 + 2},000 troops to the border near Brest on {n % 28 + 1} May, officials said."
        for _ in range(3 if not big else 12)
    )
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Story {n} about Belarus</title>"
        "<meta property='article:published_time' content='2024-05-14T09:30:00+00:00'></head>"
        f"<body><article><h1>Story {n} about Belarus</h1><p>{sentences}</p><p>Story number {n}.</p>"
        "</article></body></html>"
    ).encode()


class Site:
    """The site in a thread of this process: `/feed-F.rss` lists `/news/2024/05/story-F-N`; requests logged."""

    def __init__(self, feeds: int, per_feed: int, *, delay: float = 0.0, big: bool = True) -> None:
        self.feeds, self.per_feed, self.delay, self.big = feeds, per_feed, delay, big
        self.log: list[tuple[float, str]] = []
        self._lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                return

            def do_GET(self) -> None:
                with site._lock:
                    site.log.append((time.monotonic(), self.path))
                body, kind, status = site.document(self.path)
                if site.delay and self.path.startswith("/news/"):
                    time.sleep(site.delay)
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        class Server(ThreadingHTTPServer):
            request_queue_size = 256
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def document(self, path: str) -> tuple[bytes, str, int]:
        if path == "/robots.txt":
            return b"User-agent: *\nAllow: /\n", "text/plain", 200
        if path.startswith("/feed-") and path.endswith(".rss"):
            feed = int(path[len("/feed-") : -len(".rss")])
            items = "".join(
                f"<item><title>Story {feed}-{n}</title><link>{self.base}/news/2024/05/story-{feed}-{n}</link></item>"
                for n in range(self.per_feed)
            )
            body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>F{feed}</title>{items}</channel></rss>'
            return body.encode(), "application/rss+xml", 200
        if path.startswith("/news/2024/05/story-"):
            feed, n = path.rsplit("-", 2)[1:]
            return _article(int(feed) * 10_000 + int(n), self.big), "text/html; charset=utf-8", 200
        return b"not found", "text/plain", 404

    def requests(self, prefix: str) -> list[float]:
        with self._lock:
            return [when for when, path in self.log if path.startswith(prefix)]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(condition: Any, timeout: float, every: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return False


def _prepared_sqlite(folder: Path) -> str:
    from monitor.catalog.baseline_store import load_bundled_baseline
    from monitor.catalog.watch_terms import install_default_watch_terms
    from monitor.storage.engine import make_engine, migrate, session_scope

    url = f"sqlite:///{folder / 'bench.db'}"
    engine = make_engine(url)
    migrate(engine)
    with session_scope(engine) as session:
        load_bundled_baseline(session)
        install_default_watch_terms(session)
    engine.dispose()
    return url


# -- (a) the service ------------------------------------------------------------------------------------


def bench_service(figures: Figures, *, quick: bool) -> bool:
    from sqlmodel import Session, select

    from monitor.catalog.sources import add_source
    from monitor.http.safety import AddressPolicy
    from monitor.storage.engine import make_engine, session_scope
    from monitor.storage.models import Article

    site = Site(1, 6, big=False)
    ok = True
    with tempfile.TemporaryDirectory() as folder:
        url = _prepared_sqlite(Path(folder))
        engine = make_engine(url)
        policy = AddressPolicy.allowing(["127.0.0.1/32", "127.0.0.2/32"])
        closed = free_port()
        with session_scope(engine) as session:
            for n in range(25):
                add_source(session, url=f"http://127.0.0.2:{closed}/feed-{n}.xml", policy=policy)
            add_source(session, url=f"{site.base}/feed-0.rss", every="1m", policy=policy)
        log_path = Path(folder) / "service.log"
        env = {
            **os.environ,
            "MONITOR_DATABASE_URL": url,
            "MONITOR_CRAWL_ALLOWED_NETWORKS": "127.0.0.1/32,127.0.0.2/32",
            "MONITOR_WEB_PORT": str(free_port()),
        }
        env.pop("MONITOR_REDIS_URL", None)
        with log_path.open("w") as log:
            started = time.monotonic()
            service = subprocess.Popen(
                [sys.executable, "-m", "monitor", "run"], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=folder
            )
        try:
            running = wait_for(lambda: "Claim Monitor is running" in log_path.read_text(), 120)
            due = time.monotonic()
            first = wait_for(lambda: site.requests("/feed-0.rss"), 120, every=0.05)
            feed_request = site.requests("/feed-0.rss")[0] - due if first else float("nan")

            def stored() -> int:
                with Session(engine) as session:
                    return len(list(session.exec(select(Article.id))))

            all_stored = wait_for(lambda: stored() >= 6, 180)
            stored_after = time.monotonic() - started if all_stored else float("nan")
            # Over at least one interval of the feed (its next pass falls due within 60 s plus its jitter).
            observe = 20.0 if quick else 80.0
            wait_for(lambda: False, max(0.0, observe - (time.monotonic() - due)))
            passes = len(site.requests("/feed-0.rss"))
        finally:
            service.send_signal(signal.SIGINT)
            try:
                service.wait(90)
            except subprocess.TimeoutExpired:
                service.kill()
                service.wait()
            site.stop()
            engine.dispose()
        text = log_path.read_text()
    ok = running and first and all_stored
    figures.add("scaleout.service.feed_first_request_after_due", feed_request, "s", digits=2)
    figures.add("scaleout.service.feed_articles_stored_after_start", stored_after, "s", digits=1)
    figures.add("scaleout.service.feed_passes_observed", float(passes), "passes", digits=0)
    figures.add("scaleout.service.skipped_max_instances_lines", float(text.count(SKIPPED_LINE)), "lines", digits=0)
    if not ok:
        print(text[-3000:], file=sys.stderr)
    for line in text.splitlines():
        if SKIPPED_LINE in line:
            print(f"bench_scaleout: {line}", file=sys.stderr)
    return ok and feed_request <= 10 and stored_after <= 60 and SKIPPED_LINE not in text


# -- (b) CPU of a pass, before and after ----------------------------------------------------------------


def _pass_cpu(tree: Path, base: str, feeds: int) -> tuple[float, float, int, str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    for name in list(env):
        if name.startswith("MONITOR_") and name not in ("MONITOR_SHARED_DIR",):
            env.pop(name)
    out = subprocess.run(
        [sys.executable, str(REPO_DIR / "bench" / "_crawl_pass.py"), base, str(feeds)],
        env=env,
        cwd=tree,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return float(out[-4]), float(out[-3]), int(out[-2]), out[-1]


def bench_pass_cpu(figures: Figures, *, quick: bool) -> bool:
    feeds = 8 if quick else 25
    before_tree = Path(tempfile.mkdtemp(prefix="claim-monitor-before-"))
    before_tree.rmdir()
    subprocess.run(
        ["git", "-C", str(REPO_DIR), "worktree", "add", "--detach", str(before_tree), BEFORE_COMMIT],
        check=True,
        capture_output=True,
    )
    site = Site(feeds, 4)
    try:
        before = _pass_cpu(before_tree, site.base, feeds)
        site.log.clear()
        site.stop()
        site = Site(feeds, 4)  # fresh, so that nothing is "not modified"
        after = _pass_cpu(REPO_DIR, site.base, feeds)
    finally:
        site.stop()
        subprocess.run(["git", "-C", str(REPO_DIR), "worktree", "remove", "--force", str(before_tree)], check=False)
        shutil.rmtree(before_tree, ignore_errors=True)
    assert Path(before[3]).resolve().is_relative_to(before_tree.resolve()), before[3]
    figures.add("scaleout.pass_cpu.feeds", float(feeds), "feeds", digits=0)
    figures.add("scaleout.pass_cpu.before", before[0], "s", digits=1)
    figures.add("scaleout.pass_cpu.after", after[0], "s", digits=1)
    figures.add("scaleout.pass_cpu.after_vs_before", after[0] / before[0], "ratio", digits=2)
    figures.add("scaleout.pass_wall.before", before[1], "s", digits=1)
    figures.add("scaleout.pass_wall.after", after[1], "s", digits=1)
    return before[2] == after[2] == feeds * 4


# -- (c) two workers against one ------------------------------------------------------------------------


def _worker(database_url: str, prefix: str) -> None:
    from monitor.config import Settings
    from monitor.crawling.runs import CrawlLimits
    from monitor.crawling.scaleout import CrawlWorker
    from monitor.storage.engine import make_engine

    settings = Settings(database_url=database_url, redis_url=REDIS_URL)
    limits = CrawlLimits(
        time_limit=600,
        progress_every=10**9,
        allowed_networks=("127.0.0.1/32",),
        extra_settings={
            "ITEM_PIPELINES": {},  # the bare-fetch part
            "AUTOTHROTTLE_ENABLED": False,
            "CONCURRENT_REQUESTS": 8,
            "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
            "LOG_LEVEL": "ERROR",
        },
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    CrawlWorker(settings, make_engine(database_url), limits=limits, key_prefix=prefix, stop=stop).run()


def _scaleout_rate(workers: int, pages_per_feed: int, feeds: int) -> float:
    import redis
    from sqlalchemy import text

    from monitor.catalog.sources import add_source
    from monitor.config import Settings
    from monitor.crawling.scaleout import RedisCrawlLauncher
    from monitor.http.safety import AddressPolicy
    from monitor.storage.engine import make_engine, migrate, session_scope

    name = f"claim_monitor_bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(POSTGRES_ADMIN_URL)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    database_url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    prefix = f"claim-monitor-bench-{uuid.uuid4().hex[:8]}"
    site = Site(feeds, pages_per_feed, delay=REMOTE_LATENCY, big=False)
    context = multiprocessing.get_context("spawn")
    processes: list[Any] = []
    try:
        engine = make_engine(database_url)
        migrate(engine)
        with session_scope(engine) as session:
            for n in range(feeds):
                add_source(session, url=f"{site.base}/feed-{n}.rss", policy=AddressPolicy.allowing("127.0.0.1/32"))
        processes = [context.Process(target=_worker, args=(database_url, prefix)) for _ in range(workers)]
        for process in processes:
            process.start()
        launcher = RedisCrawlLauncher(
            Settings(database_url=database_url, redis_url=REDIS_URL), engine, key_prefix=prefix
        )
        launcher.launch([f"{site.base}/feed-{n}.rss" for n in range(feeds)])
        total = feeds * pages_per_feed
        wait_for(lambda: len(site.requests("/news/")) >= total, 600, every=0.1)
        times = sorted(site.requests("/news/"))
        engine.dispose()
    finally:
        for process in processes:
            if process.pid:
                with_suppress(os.kill, process.pid, signal.SIGTERM)
        for process in processes:
            process.join(60)
            if process.exitcode is None:
                process.kill()
        site.stop()
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    if len(times) < total:
        return float("nan")
    # From the first article request to the last: the fetching itself, not the workers' start-up.
    return (len(times) - 1) / (times[-1] - times[0])


def with_suppress(function: Any, *args: Any) -> None:
    with contextlib.suppress(OSError):
        function(*args)


def bench_scaleout(figures: Figures, *, quick: bool) -> bool:
    feeds, per_feed = (20, 25) if quick else (20, 100)
    one = _scaleout_rate(1, per_feed, feeds)
    two = _scaleout_rate(2, per_feed, feeds)
    figures.add("scaleout.articles", float(feeds * per_feed), "pages", digits=0)
    figures.add("scaleout.one_worker_pages_per_s", one, "pages/s", digits=1)
    figures.add("scaleout.two_workers_pages_per_s", two, "pages/s", digits=1)
    figures.add("scaleout.two_vs_one", two / one, "ratio", digits=2)
    return two / one >= 1.6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="shorter observation, 500 pages for scale-out")
    parser.add_argument("--only", choices=("service", "pass_cpu", "scaleout"), action="append")
    args = parser.parse_args()
    parts = {"service": bench_service, "pass_cpu": bench_pass_cpu, "scaleout": bench_scaleout}
    figures = Figures()
    failed = []
    for name, part in parts.items():
        if args.only and name not in args.only:
            continue
        if not part(figures, quick=args.quick):
            failed.append(name)
    figures.save()
    if failed:
        print(f"bench_scaleout: targets missed in {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
