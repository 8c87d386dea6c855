"""The durable outbox: alert rows written with the matches they carry, claimed by dispatchers, settled.

Life of a row: `pending` -> (claimed) `sending` -> `sent`, or back to `pending` with a later
`next_attempt_at` after a temporary failure, or `failed` after a permanent one or too many attempts.
While a row is `sending`, `next_attempt_at` holds the end of the claimer's lease: a dispatcher killed
mid-delivery leaves the row `sending`, and once the lease has run out any dispatcher may claim it again.

Uniqueness per (channel, match) and (channel, digest) lives in the database, so enqueueing twice, two
pipelines or two dispatchers can never make a second row.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, func, not_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from alerts.errors import AlertNotFoundError, AlertStateError
from monitor.config import Settings
from monitor.storage.models import (
    Alert,
    AlertStatus,
    Claim,
    CrawlRun,
    CrawlStatus,
    Match,
    ReviewStatus,
    utcnow,
)
from monitor.text.fold import fold

EMAIL = "email"
SLACK = "slack"
# With no channel configured, alerts are kept under this name: no dispatcher claims them, `alerts list` and
# the digest show them, and the first dispatcher with a real channel releases them to it.
HELD = "held"
NO_CHANNEL_NOTICE = (
    "no alert channel configured (set MONITOR_SMTP_HOST, MONITOR_EMAIL_FROM and MONITOR_EMAIL_TO, "
    "or MONITOR_SLACK_WEBHOOK_URL); alerts stay in the outbox"
)
# Alerts of a crawl run still running wait for it to finish, so the run makes one message; a run that
# has been "running" this long is taken to have died and its alerts go out anyway.
DEFAULT_RUN_WAIT = timedelta(hours=2)


def configured_channels(settings: Settings) -> list[str]:
    """The channels `settings` make usable: "email" (SMTP host, sender, recipients) and/or "slack"."""
    channels: list[str] = []
    if settings.smtp_host and settings.email_from and settings.email_to:
        channels.append(EMAIL)
    if settings.slack_webhook_url is not None:
        channels.append(SLACK)
    return channels


def enqueue_channels(settings: Settings) -> list[str]:
    """Where new alerts go: the configured channels, or the held queue when there is none."""
    return configured_channels(settings) or [HELD]


def release_held_alerts(session: Session, *, channels: Sequence[str], now: datetime) -> int:
    """Re-address held alerts to `channels` (one row per channel, as usual); return how many this call took.

    The held rows are claimed by deleting them (DELETE ... RETURNING): two dispatchers releasing at once
    each re-address only the rows their own delete removed, so neither expects rows the other took.
    """
    if not channels:
        return 0
    taken = session.execute(
        delete(Alert)
        .where(col(Alert.channel) == HELD)
        .returning(col(Alert.match_id), col(Alert.digest_id), col(Alert.crawl_run_id), col(Alert.created_at))
    ).all()
    rows = [
        {
            "channel": channel,
            "match_id": match_id,
            "digest_id": digest_id,
            "crawl_run_id": crawl_run_id,
            "status": AlertStatus.pending.value,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": created_at,
        }
        for match_id, digest_id, crawl_run_id, created_at in taken
        for channel in channels
    ]
    _insert(session, rows)
    return len(taken)


def match_alert_hook(channels: Sequence[str]) -> functools.partial[None]:
    """The crawl pipeline's `on_matches` hook: outbox rows in the same transaction as the matches.

    A partial of a module-level function, so it pickles into the crawl's child process.
    """
    return functools.partial(_enqueue_from_pipeline, channels=tuple(channels))


def _enqueue_from_pipeline(
    session: Session, matches: Sequence[Match], crawl_run_id: int | None, *, channels: Sequence[str]
) -> None:
    enqueue_match_alerts(session, matches=matches, channels=channels, crawl_run_id=crawl_run_id)


def no_channel_notice(settings: Settings) -> str | None:
    """The one-line start-up notice when no channel is configured, else None."""
    return None if configured_channels(settings) else NO_CHANNEL_NOTICE


def _insert(session: Session, rows: list[dict[str, Any]]) -> int:
    """INSERT … ON CONFLICT DO NOTHING; return how many rows were new."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(Alert).values(rows).on_conflict_do_nothing().returning(col(Alert.id))
    return len(session.execute(statement).all())


def _dismissed_pairs(session: Session, baseline_claim_ids: set[int]) -> set[tuple[int, str]]:
    """(baseline claim, folded claim text) pairs a reviewer dismissed: the same sentence is not news again."""
    statement = (
        select(col(Match.baseline_claim_id), col(Claim.text))
        .join(Claim, col(Claim.id) == col(Match.claim_id))
        .where(col(Match.review_status) == ReviewStatus.dismissed)
        .where(col(Match.baseline_claim_id).in_(baseline_claim_ids))
    )
    return {(baseline_id, _claim_key(text)) for baseline_id, text in session.execute(statement)}


def _claim_key(text: str) -> str:
    return " ".join(fold(text).split())


def alertable_matches(session: Session, matches: Sequence[Match]) -> list[Match]:
    """`matches` less the dismissed ones and those repeating a dismissed (sentence, baseline claim) pair."""
    candidates = [m for m in matches if m.review_status != ReviewStatus.dismissed and m.id is not None]
    if not candidates:
        return []
    dismissed = _dismissed_pairs(session, {m.baseline_claim_id for m in candidates})
    if not dismissed:
        return candidates
    rows = session.execute(
        select(col(Claim.id), col(Claim.text)).where(col(Claim.id).in_({m.claim_id for m in candidates}))
    )
    texts: dict[int | None, str] = {claim_id: text for claim_id, text in rows}
    return [m for m in candidates if (m.baseline_claim_id, _claim_key(texts.get(m.claim_id, ""))) not in dismissed]


def enqueue_match_alerts(
    session: Session,
    *,
    matches: Sequence[Match],
    channels: Sequence[str],
    crawl_run_id: int | None,
    now: datetime | None = None,
) -> int:
    """Write one pending alert per (channel, match) in the caller's transaction; return how many are new.

    Matches must be flushed (have ids). Dismissed pairs are skipped; an existing row is left as it is, so
    calling this again for the same matches adds nothing. The rows commit (or roll back) with the caller's.
    The rows are due at `now` (default: the current time).
    """
    if not channels:
        return 0
    now = now or utcnow()
    rows = [
        {
            "channel": channel,
            "match_id": match.id,
            "crawl_run_id": crawl_run_id,
            "status": AlertStatus.pending.value,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for match in alertable_matches(session, matches)
        for channel in channels
    ]
    return _insert(session, rows)


def enqueue_digest_alerts(
    session: Session, *, digest_id: int, channels: Sequence[str], now: datetime, resend: bool = False
) -> dict[str, str]:
    """Queue the digest once per channel; return per channel "queued", "requeued" or "already queued/sent".

    The unique (channel, digest) row makes a second send a no-op. `resend=True` is the explicit way past
    it: the existing row (sent or failed) is put back to pending with a fresh attempt budget, so the same
    row is delivered again and the outbox still holds one row per channel and digest.
    """
    outcome: dict[str, str] = {}
    for channel in channels:
        row = {
            "channel": channel,
            "digest_id": digest_id,
            "status": AlertStatus.pending.value,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        if _insert(session, [row]):
            outcome[channel] = "queued"
            continue
        existing = session.execute(
            select(Alert).where(col(Alert.channel) == channel, col(Alert.digest_id) == digest_id)
        ).scalar_one()
        if resend and existing.status in (AlertStatus.sent, AlertStatus.failed):
            _reset_to_pending(existing, now)
            outcome[channel] = "requeued"
        else:
            outcome[channel] = f"already {existing.status}"
    session.flush()
    return outcome


def _reset_to_pending(alert: Alert, now: datetime) -> None:
    alert.status = AlertStatus.pending
    alert.attempts = 0
    alert.next_attempt_at = now
    alert.sent_at = None


@dataclass(frozen=True)
class ClaimedAlert:
    """An alert this dispatcher holds the lease on, with what it needs to deliver it."""

    id: int
    channel: str
    match_id: int | None
    digest_id: int | None
    crawl_run_id: int | None
    attempts: int  # including the attempt this claim starts


def _due(now: datetime, channels: Sequence[str], run_wait: timedelta) -> ColumnElement[bool]:
    run_in_progress = exists().where(
        col(CrawlRun.id) == col(Alert.crawl_run_id),
        col(CrawlRun.status) == CrawlStatus.running,
        col(CrawlRun.started_at) > now - run_wait,
    )
    return and_(
        col(Alert.status).in_([AlertStatus.pending, AlertStatus.sending]),
        col(Alert.next_attempt_at) <= now,
        col(Alert.channel).in_(list(channels)),
        not_(run_in_progress),
    )


def claim_due_alerts(
    session: Session,
    *,
    now: datetime,
    channels: Sequence[str],
    lease: timedelta,
    limit: int = 500,
    run_wait: timedelta = DEFAULT_RUN_WAIT,
) -> list[ClaimedAlert]:
    """Mark up to `limit` due alerts of `channels` as `sending` under a lease until `now + lease`.

    Due: pending and `next_attempt_at <= now`, or sending with an expired lease, and not part of a crawl
    run still in progress. On PostgreSQL rows are picked with `FOR UPDATE SKIP LOCKED`, so concurrent
    dispatchers take disjoint rows; SQLite runs the claim as one UPDATE, which holds the database's
    write lock. The caller commits before delivering, so the claim survives a crash.
    """
    if not channels:
        return []
    due = _due(now, channels, run_wait)
    pick = select(col(Alert.id)).where(due).order_by(col(Alert.id)).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        # Lock the picked rows first, in their own statement: PostgreSQL may re-run a LIMIT subquery
        # inside an UPDATE, so the pick and the update are kept apart.
        ids = list(session.execute(pick.with_for_update(skip_locked=True, of=Alert)).scalars())
        if not ids:
            return []
        target = col(Alert.id).in_(ids)
    else:
        # correlate(None): the pick is its own query, not one re-run per updated row.
        target = col(Alert.id).in_(pick.correlate(None).scalar_subquery())
    statement = (
        update(Alert)
        .where(target, due)
        .values(status=AlertStatus.sending, attempts=col(Alert.attempts) + 1, next_attempt_at=now + lease)
        .returning(
            col(Alert.id),
            col(Alert.channel),
            col(Alert.match_id),
            col(Alert.digest_id),
            col(Alert.crawl_run_id),
            col(Alert.attempts),
        )
    )
    claimed = [ClaimedAlert(*row) for row in session.execute(statement)]
    return sorted(claimed, key=lambda alert: alert.id)


def mark_sent(session: Session, alert_ids: Sequence[int], *, now: datetime) -> int:
    """Record that the channel accepted the message carrying `alert_ids`; return rows updated."""
    statement = (
        update(Alert)
        .where(col(Alert.id).in_(list(alert_ids)), col(Alert.status) == AlertStatus.sending)
        .values(status=AlertStatus.sent, sent_at=now, last_error=None)
        .returning(col(Alert.id))
    )
    return len(session.execute(statement).all())


def reschedule(session: Session, alert_ids: Sequence[int], *, at: datetime, error: str | None) -> None:
    """Put claimed alerts back to pending, due at `at` (a retry after a temporary failure)."""
    values: dict[str, Any] = {"status": AlertStatus.pending, "next_attempt_at": at}
    if error is not None:
        values["last_error"] = error
    session.execute(
        update(Alert)
        .where(col(Alert.id).in_(list(alert_ids)), col(Alert.status) == AlertStatus.sending)
        .values(**values)
    )


def defer(session: Session, alert_ids: Sequence[int], *, until: datetime) -> None:
    """Release claimed alerts without counting the claim as an attempt (a cool-down, not a failure).

    Every claim added one to `attempts`, so taking one off cannot go below zero.
    """
    session.execute(
        update(Alert)
        .where(col(Alert.id).in_(list(alert_ids)), col(Alert.status) == AlertStatus.sending)
        .values(status=AlertStatus.pending, next_attempt_at=until, attempts=col(Alert.attempts) - 1)
    )


def cancel_dismissed(session: Session, alerts_by_match: dict[int, int]) -> set[int]:
    """Cancel the alerts (by match id -> alert id) whose match a reviewer dismissed; return those match ids."""
    if not alerts_by_match:
        return set()
    dismissed = set(
        session.execute(
            select(col(Match.id)).where(
                col(Match.id).in_(list(alerts_by_match)), col(Match.review_status) == ReviewStatus.dismissed
            )
        ).scalars()
    )
    if dismissed:
        session.execute(
            update(Alert)
            .where(col(Alert.id).in_([alerts_by_match[match_id] for match_id in dismissed]))
            .values(status=AlertStatus.cancelled, last_error="dismissed by a reviewer before delivery")
        )
    return dismissed


def mark_failed(session: Session, alert_ids: Sequence[int], *, error: str) -> None:
    """Give up on claimed alerts; they stay `failed` with `error` until retried by hand."""
    session.execute(
        update(Alert)
        .where(col(Alert.id).in_(list(alert_ids)), col(Alert.status) == AlertStatus.sending)
        .values(status=AlertStatus.failed, last_error=error)
    )


def retry_alert(session: Session, alert_id: int, *, now: datetime) -> Alert:
    """Put a failed alert back to pending, due now, with a fresh attempt budget."""
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise AlertNotFoundError(f"no alert with id {alert_id}")
    if alert.status != AlertStatus.failed:
        raise AlertStateError(f"alert {alert_id} is {alert.status}; only failed alerts can be retried")
    _reset_to_pending(alert, now)
    session.flush()
    return alert


def last_sent_per_baseline_claim(
    session: Session, *, channel: str, baseline_claim_ids: set[int], since: datetime
) -> dict[int, datetime]:
    """When each baseline claim was last alerted on `channel` after `since` (for the cool-down)."""
    if not baseline_claim_ids:
        return {}
    statement = (
        select(col(Match.baseline_claim_id), func.max(col(Alert.sent_at)))
        .join(Match, col(Match.id) == col(Alert.match_id))
        .where(
            col(Alert.channel) == channel,
            col(Alert.status) == AlertStatus.sent,
            col(Alert.sent_at) > since,
            col(Match.baseline_claim_id).in_(baseline_claim_ids),
        )
        .group_by(col(Match.baseline_claim_id))
    )
    return {baseline_id: sent_at for baseline_id, sent_at in session.execute(statement) if sent_at}
