"""`run_service`: the scheduler and the web app in one process, until Ctrl-C or SIGTERM, then a clean stop.

Start-up: the web app's listen address is checked, runs a killed earlier service left `running` are
recorded, the scheduler starts (sources, outbox, digest) and the web app is served by uvicorn in a thread.
Stop (SIGINT or SIGTERM, or `stop` set by the caller): no new runs start; running crawls are asked to
finish and are recorded (killed and recorded as failed if they take longer than `stop_grace`); running
jobs end; the web app closes. A `CrawlRun` is never left `running` by a clean stop, and alert rows are
only ever marked sent after their channel accepted them, so nothing is lost.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TextIO

import httpx
import uvicorn
from sqlalchemy.engine import Engine

from alerts.channels import build_channels
from alerts.dispatcher import DEFAULT_LEASE, OutboxDispatcher
from alerts.outbox import configured_channels, no_channel_notice
from monitor.config import Settings
from monitor.crawling.launchers import (
    DEFAULT_CRAWL_TIME_LIMIT,
    CrawlerLauncher,
    CrawlLauncher,
    ManagedCrawlLauncher,
    make_launcher,
)
from monitor.crawling.runs import CrawlLimits
from monitor.errors import MonitorError
from monitor.service.jobs import MonitorJobs
from monitor.service.scheduler import MonitorScheduler, SchedulerOptions
from monitor.service.signals import stop_on_signals
from monitor.web.server import check_listen_address

logger = logging.getLogger(__name__)


class ServiceError(MonitorError):
    """The service could not start (the web app's port is taken, say); the message says why."""


@dataclass(frozen=True)
class ServiceOptions:
    """Knobs of the running service beyond `Settings`; the defaults are the production values."""

    schedule: SchedulerOptions
    crawl_limits: CrawlLimits = field(default_factory=lambda: CrawlLimits(time_limit=DEFAULT_CRAWL_TIME_LIMIT))
    alert_cooldown: timedelta | None = None  # None: MONITOR_ALERT_COOLDOWN
    outbox_lease: timedelta = DEFAULT_LEASE
    stop_grace: float = 20.0  # seconds running crawls get to finish on a stop before they are killed

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> ServiceOptions:
        overrides.setdefault("crawl_limits", CrawlLimits.from_settings(settings, time_limit=DEFAULT_CRAWL_TIME_LIMIT))
        return cls(schedule=SchedulerOptions.from_settings(settings), **overrides)


class _WebServer(uvicorn.Server):
    """uvicorn's server, telling a waiting thread when it listens (or that it gave up)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening = threading.Event()
        self.ended = threading.Event()
        self.settled = threading.Event()  # listening, or ended without listening
        self.failure: str | None = None

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets=sockets)
        if not self.should_exit:
            self.listening.set()
            self.settled.set()

    def run_in_thread(self) -> None:
        try:
            self.run()
        except BaseException as exc:  # uvicorn ends a failed start with SystemExit
            self.failure = f"{type(exc).__name__}: {exc}"
        finally:
            if not self.listening.is_set() and self.failure is None:
                self.failure = "the web app did not start"
            self.ended.set()
            self.settled.set()


def build_dispatcher(
    engine: Engine, settings: Settings, options: ServiceOptions, client: httpx.Client
) -> OutboxDispatcher | None:
    """The outbox dispatcher over the configured channels, or None when there is none."""
    channels = build_channels(settings, http_client=client)
    if not channels:
        return None
    dispatcher = OutboxDispatcher.from_settings(engine, settings, channels, cooldown=options.alert_cooldown)
    dispatcher.lease = options.outbox_lease
    return dispatcher


def run_service(
    settings: Settings,
    engine: Engine,
    *,
    host: str,
    port: int,
    options: ServiceOptions | None = None,
    launcher: CrawlLauncher | None = None,
    stop: threading.Event | None = None,
    on_ready: Callable[[MonitorScheduler], None] | None = None,
    out: TextIO | None = None,
) -> None:
    """Run the scheduler and the web app until `stop` is set or SIGINT/SIGTERM arrives; then stop cleanly.

    `out` gets the start-up lines (the no-channel notice once, where the web app listens) and the final
    line. Raises InputError for a listen address beyond loopback without a token, and ServiceError when
    the web app cannot start (the scheduler is stopped again first).
    """
    out = out or sys.stderr
    options = options or ServiceOptions.from_settings(settings)
    stop = stop or threading.Event()
    check_listen_address(settings, host)
    notice = no_channel_notice(settings)
    if notice:
        print(notice, file=out, flush=True)
    launcher = launcher or make_launcher(settings, engine, limits=options.crawl_limits)
    with httpx.Client(timeout=httpx.Timeout(10.0), follow_redirects=False) as client, stop_on_signals(stop):
        if isinstance(launcher, ManagedCrawlLauncher):
            launcher.recover_interrupted_runs()
        jobs = MonitorJobs(
            engine,
            launcher=launcher,
            dispatcher=build_dispatcher(engine, settings, options, client),
            digest_channels=configured_channels(settings),
            digest_time=options.schedule.digest_time,
            zone=options.schedule.zone,
        )
        scheduler = MonitorScheduler(jobs, options.schedule)
        jobs.after_crawl = scheduler.wake_outbox
        if isinstance(launcher, CrawlerLauncher):  # the outbox is woken when a pass is recorded
            launcher.on_finished = lambda _run, _status: scheduler.wake_outbox()
        scheduler.start()
        try:
            web = _serve_web_in_thread(settings, engine, host=host, port=port, stop=stop)
            print(
                f"Claim Monitor is running: web app at http://{host}:{port}/, "
                f"{len(scheduler.crawl_jobs())} source(s) scheduled. Ctrl-C stops it.",
                file=out,
                flush=True,
            )
            if on_ready is not None:
                on_ready(scheduler)
            stop.wait()
            print("Stopping: letting running crawls finish…", file=out, flush=True)
        finally:
            scheduler.stop(launcher_grace=options.stop_grace)
        web.should_exit = True
        web.ended.wait(10.0)
    print("Stopped cleanly.", file=out, flush=True)


def _serve_web_in_thread(
    settings: Settings, engine: Engine, *, host: str, port: int, stop: threading.Event
) -> _WebServer:
    """Start uvicorn in a thread and wait until it listens; ServiceError if it cannot."""
    from monitor.web.app import create_app

    config = uvicorn.Config(create_app(settings, engine), host=host, port=port, log_level="warning")
    server = _WebServer(config)

    def serve() -> None:
        server.run_in_thread()
        stop.set()  # the web app ended (on its own, or because we stop): the service ends with it

    threading.Thread(target=serve, name="web", daemon=True).start()
    server.settled.wait(60.0)
    if not server.listening.is_set():
        raise ServiceError(f"the web app cannot listen on {host}:{port}: {server.failure}")
    return server
