"""One crawl pass over N local feeds the way the service runs it, for `bench_scaleout.py` (CPU, before/after).

Run with PYTHONPATH pointing at the code tree to measure (this file uses only what both trees have):
`python bench/_crawl_pass.py BASE_URL FEEDS`. Prints `cpu_seconds wall_seconds stored monitor_path`.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

from sqlmodel import Session, select

import monitor
from monitor.catalog.baseline_store import load_bundled_baseline
from monitor.catalog.sources import add_source
from monitor.catalog.watch_terms import install_default_watch_terms
from monitor.config import Settings
from monitor.crawling.launchers import make_launcher
from monitor.crawling.runs import CrawlLimits
from monitor.http.safety import AddressPolicy
from monitor.storage.engine import make_engine, migrate, session_scope
from monitor.storage.models import Article, CrawlRun


def main() -> int:
    base, feeds = sys.argv[1], int(sys.argv[2])
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'pass.db'}"
        engine = make_engine(url)
        migrate(engine)
        with session_scope(engine) as session:
            load_bundled_baseline(session)
            install_default_watch_terms(session)
            for n in range(feeds):
                add_source(session, url=f"{base}/feed-{n}.rss", policy=AddressPolicy.allowing("127.0.0.1/32"))
        settings = Settings(database_url=url, crawl_allowed_networks="127.0.0.1/32")
        limits = CrawlLimits(
            time_limit=600, autothrottle_start_delay=0.0, progress_every=10**9, allowed_networks=("127.0.0.1/32",)
        )
        launcher = make_launcher(settings, engine, limits=limits)
        urls = [f"{base}/feed-{n}.rss" for n in range(feeds)]
        started = time.perf_counter()
        # As the scheduler does: every source its own job, two crawl threads.
        pending = list(urls)
        lock = threading.Lock()

        def work() -> None:
            while True:
                with lock:
                    if not pending:
                        return
                    source = pending.pop(0)
                launcher.launch([source])

        threads = [threading.Thread(target=work) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        def running() -> int:
            with Session(engine) as session:
                runs = list(session.exec(select(CrawlRun)))
            return len(runs) < feeds or any(run.status == "running" for run in runs)

        while running():
            time.sleep(0.2)
        wall = time.perf_counter() - started
        stop = getattr(launcher, "stop", None)
        if stop is not None:
            stop(60.0)  # the crawler that stays up exits, so its CPU time is counted
        with Session(engine) as session:
            stored = len(list(session.exec(select(Article.id))))
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = resource.getrusage(resource.RUSAGE_SELF)
    cpu = children.ru_utime + children.ru_stime + own.ru_utime + own.ru_stime
    print(f"{cpu:.2f} {wall:.2f} {stored} {Path(monitor.__file__).parent}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
