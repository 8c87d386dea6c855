"""`OutboxDispatcher`: claims due alerts, sends one message per channel and batch, settles the rows.

A batch is one crawl run's match alerts on one channel (one message, grouped by baseline claim), or one
digest on one channel. A row is marked sent only after the channel accepted the message; the claim is
committed before anything is sent, so a dispatcher killed at any point leaves rows that another (or the
same, restarted) dispatcher reclaims once the lease ends.
"""

from __future__ import annotations

import hashlib
import logging
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy.engine import Engine
from sqlmodel import Session

from alerts.channels.base import AlertChannel
from alerts.digest_render import load_digest_message
from alerts.errors import DeliveryError, PermanentDeliveryError, TemporaryDeliveryError
from alerts.outbox import (
    DEFAULT_RUN_WAIT,
    ClaimedAlert,
    cancel_dismissed,
    claim_due_alerts,
    defer,
    last_sent_per_baseline_claim,
    mark_failed,
    mark_sent,
    release_held_alerts,
    reschedule,
    retry_alert,
)
from alerts.render import RenderedMessage, render_match_batch
from alerts.retry import RetryPolicy
from monitor.catalog.queries import MatchView, load_match_views
from monitor.config import Settings
from monitor.storage.engine import session_scope
from monitor.storage.models import Alert, utcnow

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Outcome = Literal["sent", "retrying", "failed", "deferred"]

DEFAULT_COOLDOWN = timedelta(hours=1)
# How long a claimed row is this dispatcher's. It bounds the one window where Slack may get a message twice
# (Slack takes no idempotency key): a webhook that posted but answered after the timeout, or a dispatcher
# killed between request and reply, is sent again once the lease runs out. So it is no longer than a
# pass needs: a few batches, each bounded by its channel's timeouts (Slack 10 s, SMTP 30 s a command).
DEFAULT_LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class Delivery:
    """What happened to one batch: its alerts, the message subject, the outcome and any error."""

    channel: str
    alert_ids: tuple[int, ...]
    subject: str
    outcome: Outcome
    error: str | None = None
    next_attempt_at: datetime | None = None


@dataclass
class DispatchReport:
    """Every batch one `dispatch_due` (or `drain`) call handled, in order."""

    deliveries: list[Delivery] = field(default_factory=list)

    def count(self, outcome: Outcome) -> int:
        return sum(len(d.alert_ids) for d in self.deliveries if d.outcome == outcome)

    @property
    def sent(self) -> int:
        return self.count("sent")

    @property
    def failed(self) -> int:
        return self.count("failed")


@dataclass(frozen=True)
class Batch:
    """Claimed alerts that travel in one message."""

    channel: str
    alerts: tuple[ClaimedAlert, ...]

    @property
    def ids(self) -> tuple[int, ...]:
        return tuple(alert.id for alert in self.alerts)

    @property
    def digest_id(self) -> int | None:
        return self.alerts[0].digest_id

    @property
    def crawl_run_id(self) -> int | None:
        return self.alerts[0].crawl_run_id

    def key(self) -> str:
        """Stable for the same rows, so a message resent after a crash has the same identity."""
        fingerprint = hashlib.sha256(",".join(map(str, self.ids)).encode()).hexdigest()[:16]
        if self.digest_id is not None:
            return f"claim-monitor.{self.channel}.digest-{self.digest_id}.{fingerprint}"
        run = f"run-{self.crawl_run_id}" if self.crawl_run_id is not None else "no-run"
        return f"claim-monitor.{self.channel}.{run}.{fingerprint}"


def group_batches(claimed: Iterable[ClaimedAlert]) -> list[Batch]:
    """Batches per channel: each digest alone, match alerts per crawl run; oldest first."""
    groups: dict[tuple[str, str, int | None], list[ClaimedAlert]] = {}
    for alert in claimed:
        group_key: tuple[str, str, int | None]
        if alert.digest_id is not None:
            group_key = (alert.channel, "digest", alert.id)
        else:
            group_key = (alert.channel, "run", alert.crawl_run_id)
        groups.setdefault(group_key, []).append(alert)
    batches = [Batch(channel=key[0], alerts=tuple(alerts)) for key, alerts in groups.items()]
    return sorted(batches, key=lambda batch: batch.ids[0])


class OutboxDispatcher:
    """Delivers due outbox rows through `channels` (by name); rows of other channels stay pending.

    `cooldown`: after a baseline claim was alerted on a channel, further matches on it wait until the
    cool-down has passed and then go out together (deferred, never dropped). `clock` and `rng` are
    injectable so tests control time and jitter.
    """

    def __init__(
        self,
        engine: Engine,
        channels: Mapping[str, AlertChannel],
        *,
        policy: RetryPolicy | None = None,
        cooldown: timedelta = DEFAULT_COOLDOWN,
        lease: timedelta = DEFAULT_LEASE,
        run_wait: timedelta = DEFAULT_RUN_WAIT,
        batch_limit: int = 500,
        clock: Clock = utcnow,
        rng: random.Random | None = None,
        web_base_url: str | None = None,
    ) -> None:
        self.engine = engine
        self.channels = dict(channels)
        self.policy = policy or RetryPolicy()
        self.cooldown = cooldown
        self.lease = lease
        self.run_wait = run_wait
        self.batch_limit = batch_limit
        self.clock = clock
        self.rng = rng or random.Random()
        self.web_base_url = web_base_url

    @classmethod
    def from_settings(
        cls,
        engine: Engine,
        settings: Settings,
        channels: Mapping[str, AlertChannel],
        *,
        cooldown: timedelta | None = None,
    ) -> OutboxDispatcher:
        """A dispatcher with MONITOR_ALERT_COOLDOWN whose messages link to the web UI (MONITOR_PUBLIC_URL, else
        MONITOR_WEB_HOST:PORT)."""
        web_base_url = settings.web_base_url()
        return cls(
            engine, channels, cooldown=settings.cooldown if cooldown is None else cooldown, web_base_url=web_base_url
        )

    def dispatch_due(self) -> DispatchReport:
        """One pass: claim what is due now, deliver it batch by batch, and report each batch."""
        report = DispatchReport()
        with session_scope(self.engine) as session:
            release_held_alerts(session, channels=sorted(self.channels), now=self.clock())
            claimed = claim_due_alerts(
                session,
                now=self.clock(),
                channels=sorted(self.channels),
                lease=self.lease,
                limit=self.batch_limit,
                run_wait=self.run_wait,
            )
        for batch in group_batches(claimed):
            report.deliveries.extend(self._deliver(batch))
        return report

    def drain(self, *, max_passes: int = 50) -> DispatchReport:
        """Dispatch until nothing is due (rows waiting for a retry or a cool-down are left for later)."""
        report = DispatchReport()
        for _ in range(max_passes):
            passed = self.dispatch_due()
            if not passed.deliveries:
                break
            report.deliveries.extend(passed.deliveries)
        return report

    def retry(self, alert_id: int) -> Alert:
        """Put failed alert `alert_id` back to pending, due now; raise AlertNotFoundError/AlertStateError."""
        with session_scope(self.engine) as session:
            return retry_alert(session, alert_id, now=self.clock())

    def _deliver(self, batch: Batch) -> list[Delivery]:
        channel = self.channels[batch.channel]
        deliveries: list[Delivery] = []
        try:
            with session_scope(self.engine) as session:
                message, deferred = self._prepare(session, batch)
        except Exception as exc:  # a rendering bug must not wedge the outbox: retry, bounded
            logger.exception("cannot render alerts %s", batch.ids)
            return [
                self._settle_failure(batch, batch.ids, "", TemporaryDeliveryError(repr(exc), channel=batch.channel))
            ]
        deliveries.extend(deferred)
        if message is None:
            return deliveries
        ids = _ids_in(batch, message)
        try:
            channel.send(message)
        except DeliveryError as exc:
            deliveries.append(self._settle_failure(batch, ids, message.subject, exc))
            return deliveries
        except Exception as exc:  # an unexpected channel bug counts as a temporary failure, bounded
            logger.exception("channel %s raised unexpectedly", batch.channel)
            error = TemporaryDeliveryError(f"{type(exc).__name__} in channel", channel=batch.channel)
            deliveries.append(self._settle_failure(batch, ids, message.subject, error))
            return deliveries
        with session_scope(self.engine) as session:
            mark_sent(session, ids, now=self.clock())
        logger.info("sent %d alert(s) on %s: %s", len(ids), batch.channel, message.subject)
        deliveries.append(Delivery(batch.channel, ids, message.subject, "sent"))
        return deliveries

    def _prepare(self, session: Session, batch: Batch) -> tuple[RenderedMessage | None, list[Delivery]]:
        """The message for `batch`, after deferring the alerts whose baseline claim is cooling down."""
        if batch.digest_id is not None:
            return load_digest_message(
                session, digest_id=batch.digest_id, key=batch.key(), web_base_url=self.web_base_url
            ), []
        by_match = {alert.match_id: alert for alert in batch.alerts if alert.match_id is not None}
        for match_id in cancel_dismissed(session, {match_id: alert.id for match_id, alert in by_match.items()}):
            del by_match[match_id]
        views = load_match_views(session, list(by_match))
        vanished = [alert.id for match_id, alert in by_match.items() if match_id not in {v.match_id for v in views}]
        if vanished:  # cannot happen through the foreign keys' cascade; never leave a row stuck in 'sending'
            mark_failed(session, vanished, error="the match no longer exists")
        sendable, deferred = self._apply_cooldown(session, batch, views, by_match)
        if not sendable:
            return None, deferred
        sent_batch = Batch(batch.channel, tuple(by_match[view.match_id] for view in sendable))
        message = render_match_batch(
            sendable, key=sent_batch.key(), crawl_run_id=batch.crawl_run_id, web_base_url=self.web_base_url
        )
        return message, deferred

    def _apply_cooldown(
        self,
        session: Session,
        batch: Batch,
        views: Sequence[MatchView],
        by_match: Mapping[int, ClaimedAlert],
    ) -> tuple[list[MatchView], list[Delivery]]:
        if self.cooldown <= timedelta(0):
            return list(views), []
        now = self.clock()
        last_sent = last_sent_per_baseline_claim(
            session,
            channel=batch.channel,
            baseline_claim_ids={view.baseline_claim_id for view in views},
            since=now - self.cooldown,
        )
        sendable = [view for view in views if view.baseline_claim_id not in last_sent]
        waiting: dict[datetime, list[int]] = {}
        for view in views:
            if view.baseline_claim_id in last_sent:
                until = last_sent[view.baseline_claim_id] + self.cooldown
                waiting.setdefault(until, []).append(by_match[view.match_id].id)
        deliveries = []
        for until, ids in waiting.items():
            defer(session, ids, until=until)
            deliveries.append(Delivery(batch.channel, tuple(ids), "", "deferred", next_attempt_at=until))
        return sendable, deliveries

    def _settle_failure(self, batch: Batch, ids: Sequence[int], subject: str, error: DeliveryError) -> Delivery:
        attempts = max(alert.attempts for alert in batch.alerts if alert.id in ids)
        now = self.clock()
        with session_scope(self.engine) as session:
            if isinstance(error, PermanentDeliveryError):
                mark_failed(session, ids, error=str(error))
                outcome: Delivery = Delivery(batch.channel, tuple(ids), subject, "failed", str(error))
            elif self.policy.exhausted(attempts):
                message = f"gave up after {attempts} attempts: {error}"
                mark_failed(session, ids, error=message)
                outcome = Delivery(batch.channel, tuple(ids), subject, "failed", message)
            else:
                retry_after = error.retry_after if isinstance(error, TemporaryDeliveryError) else None
                at = now + self.policy.delay(attempts, self.rng, retry_after=retry_after)
                reschedule(session, ids, at=at, error=str(error))
                outcome = Delivery(batch.channel, tuple(ids), subject, "retrying", str(error), at)
        logger.warning("%s alert(s) on %s %s: %s", len(ids), batch.channel, outcome.outcome, error)
        return outcome


def _ids_in(batch: Batch, message: RenderedMessage) -> tuple[int, ...]:
    """The alert ids a message carries: all of a digest batch, or those whose match was rendered."""
    if batch.digest_id is not None:
        return batch.ids
    rendered = set(message.match_ids)
    return tuple(alert.id for alert in batch.alerts if alert.match_id in rendered)
