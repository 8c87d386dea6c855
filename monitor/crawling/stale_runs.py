"""Crawl runs left `running` with no process to finish them, and how they are closed.

A run's row is written twice: when it starts, and when its process ends and the parent records the
report. If the database is unreachable at that second moment (an outage, a restart), or the parent is
killed, the row would say `running` forever. Each run therefore records the host and process id of its
crawl; a run still `running` whose process is gone from this host is closed as failed, with the reason,
when the service starts and then periodically (`close_orphaned_runs`).
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Collection
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from monitor.storage.engine import session_scope
from monitor.storage.models import CrawlRun, CrawlStatus, utcnow

__all__ = ["close_orphaned_runs", "process_alive", "record_crawl_process"]

logger = logging.getLogger(__name__)

ORPHANED_RUN = "the crawl process ({host}, pid {pid}) ended without recording this run (a database outage?)"


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists on this host (zombies count as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True  # no /proc (not Linux): the signal said it exists


def record_crawl_process(engine: Engine, crawl_run_id: int, *, pid: int | None, host: str | None = None) -> None:
    """Note which process crawls run `crawl_run_id`."""
    with session_scope(engine) as session:
        session.execute(
            update(CrawlRun).where(col(CrawlRun.id) == crawl_run_id).values(host=host or socket.gethostname(), pid=pid)
        )


def close_orphaned_runs(
    engine: Engine,
    *,
    host: str | None = None,
    alive: Callable[[int], bool] = process_alive,
    keep: Collection[int] = (),
    now: datetime | None = None,
) -> list[int]:
    """Close as failed the `running` runs of this host whose crawl process is gone; return their ids.

    `keep`: runs the caller is still recording (their process may just have exited). Runs of other hosts
    are left to the crawler workers there (`monitor.crawling.scaleout` takes over a dead worker's runs).
    """
    host = host or socket.gethostname()
    with session_scope(engine) as session:
        candidates = session.execute(
            select(col(CrawlRun.id), col(CrawlRun.pid)).where(
                col(CrawlRun.status) == CrawlStatus.running, col(CrawlRun.host) == host, col(CrawlRun.pid).is_not(None)
            )
        ).all()
        closed = []
        for run_id, pid in candidates:
            if run_id in keep or alive(int(pid)):
                continue
            run = session.get(CrawlRun, run_id)
            if run is None or run.status != CrawlStatus.running:
                continue
            reason = ORPHANED_RUN.format(host=host, pid=pid)
            run.status = CrawlStatus.failed
            run.finished_at = now or utcnow()
            run.error = reason
            run.stats = {**run.stats, "partial": True, "partial_reason": reason}
            session.add(run)
            closed.append(run_id)
    if closed:
        logger.warning("crawl run(s) %s had no process left: recorded as failed", closed)
    return closed
