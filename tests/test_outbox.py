"""The outbox on SQLite and PostgreSQL: unique rows, claiming, leases, backoff, cool-down, and kills."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alert_servers import WAIT, SlackReceiver, SmtpReceiver, running_slack, running_smtp
from factories import Clock, baseline_claim, crawl_run, match
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from alerts.dispatcher import OutboxDispatcher
from alerts.errors import AlertStateError, PermanentDeliveryError, TemporaryDeliveryError
from alerts.outbox import claim_due_alerts, configured_channels, enqueue_match_alerts, no_channel_notice
from alerts.render import RenderedMessage
from alerts.retry import RetryPolicy
from monitor.config import load_settings
from monitor.storage.engine import session_scope
from monitor.storage.models import Alert, CrawlStatus, Match, ReviewStatus

REPO = Path(__file__).resolve().parent.parent
LEASE = timedelta(minutes=10)


class ScriptedChannel:
    """An in-memory channel: raises the scripted errors first, then accepts and records every message."""

    def __init__(self, name: str = "email") -> None:
        self.name = name
        self.errors: list[Exception] = []
        self.accepted: list[RenderedMessage] = []

    def send(self, message: RenderedMessage) -> None:
        if self.errors:
            raise self.errors.pop(0)
        self.accepted.append(message)


def alerts(engine: Engine) -> list[Alert]:
    with session_scope(engine) as session:
        return list(session.exec(select(Alert).order_by(Alert.id)))  # type: ignore[arg-type]


def make_dispatcher(engine: Engine, *channels: ScriptedChannel, clock: Clock, **options: object) -> OutboxDispatcher:
    defaults: dict[str, object] = {
        "policy": RetryPolicy(base=timedelta(seconds=1), cap=timedelta(seconds=30), max_attempts=3),
        "rng": random.Random(3),
        "clock": clock,
        "lease": LEASE,
    }
    return OutboxDispatcher(engine, {c.name: c for c in channels}, **{**defaults, **options})  # type: ignore[arg-type]


def run_with_matches(session: Session, count: int, **match_fields: object) -> tuple[int, list[Match]]:
    run = crawl_run(session)
    assert run.id is not None
    return run.id, [match(session, claim_text=f"Belarus has {9000 + i} troops.", **match_fields) for i in range(count)]  # type: ignore[arg-type]


def test_one_row_per_channel_and_match_however_often_enqueued(engine: Engine) -> None:
    with session_scope(engine) as session:
        run_id, found = run_with_matches(session, 3)
        assert enqueue_match_alerts(session, matches=found, channels=["email", "slack"], crawl_run_id=run_id) == 6
        assert enqueue_match_alerts(session, matches=found, channels=["email", "slack"], crawl_run_id=run_id) == 0
    with session_scope(engine) as session:
        assert enqueue_match_alerts(session, matches=found[:1], channels=["email"], crawl_run_id=run_id) == 0
    rows = alerts(engine)
    assert len(rows) == 6 and {row.status for row in rows} == {"pending"}
    assert Counter(row.channel for row in rows) == {"email": 3, "slack": 3}


def test_outbox_rows_roll_back_with_their_matches(engine: Engine) -> None:
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        run_id, found = run_with_matches(session, 2)
        enqueue_match_alerts(session, matches=found, channels=["email"], crawl_run_id=run_id)
        raise RuntimeError("the crawl failed before commit")
    assert alerts(engine) == []


def test_dismissed_pairs_are_not_alerted_again(engine: Engine) -> None:
    with session_scope(engine) as session:
        baseline = baseline_claim(session)
        dismissed = match(session, baseline=baseline, claim_text="Belarus has 9,000 troops.")
        dismissed.review_status = ReviewStatus.dismissed
        # The same sentence in a syndicated copy, with different spacing and case, speaks to the same claim.
        again = match(session, baseline=baseline, claim_text="BELARUS  has 9,000 troops.")
        other_sentence = match(session, baseline=baseline, claim_text="Belarus has 7,000 troops.")
        other_baseline = match(session, claim_text="Belarus has 9,000 troops.")
        session.flush()
        found = [dismissed, again, other_sentence, other_baseline]
        assert enqueue_match_alerts(session, matches=found, channels=["email"], crawl_run_id=None) == 2
    assert {row.match_id for row in alerts(engine)} == {other_sentence.id, other_baseline.id}


def test_a_match_dismissed_after_it_was_queued_is_cancelled_not_sent(engine: Engine) -> None:
    with session_scope(engine) as session:
        kept, dismissed = match(session), match(session, claim_text="Belarus will stay out of the war.")
        enqueue_match_alerts(session, matches=[kept, dismissed], channels=["email"], crawl_run_id=None)
        dismissed_id = dismissed.id
    with session_scope(engine) as session:
        row = session.get(Match, dismissed_id)
        assert row is not None
        row.review_status = ReviewStatus.dismissed
    email = ScriptedChannel("email")
    report = make_dispatcher(engine, email, clock=Clock(), cooldown=timedelta(0)).dispatch_due()
    assert report.sent == 1
    assert "Belarus will stay out of the war." not in email.accepted[0].text
    with Session(engine) as session:
        statuses = {alert.match_id: alert.status for alert in session.exec(select(Alert))}
    assert statuses[dismissed_id] == "cancelled"


def test_claims_are_exclusive_and_leases_expire(engine: Engine) -> None:
    with session_scope(engine) as session:
        run_id, found = run_with_matches(session, 2)
        enqueue_match_alerts(session, matches=found, channels=["email"], crawl_run_id=run_id)
    now = datetime.now(UTC)

    def claim(at: datetime, limit: int = 10) -> list[int]:
        with session_scope(engine) as session:
            return [c.id for c in claim_due_alerts(session, now=at, channels=["email"], lease=LEASE, limit=limit)]

    first = claim(now, limit=1)
    first += claim(now, limit=10)
    assert len(first) == 2
    assert claim(now) == []  # a second dispatcher finds nothing
    assert claim(now + LEASE - timedelta(seconds=1)) == []  # the lease still holds
    assert claim(now + LEASE) == first  # the first dispatcher died: its rows come back
    assert [row.attempts for row in alerts(engine)] == [2, 2]
    with session_scope(engine) as session:
        assert claim_due_alerts(session, now=now + 3 * LEASE, channels=["slack"], lease=LEASE) == []


def test_concurrent_claims_skip_locked_rows(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers: the second claim would wait, not skip")
    with session_scope(engine) as session:
        run_id, found = run_with_matches(session, 2)
        enqueue_match_alerts(session, matches=found, channels=["email"], crawl_run_id=run_id)
    now = datetime.now(UTC)
    with Session(engine) as first, Session(engine) as second:
        held = claim_due_alerts(first, now=now, channels=["email"], lease=LEASE, limit=1)
        other = claim_due_alerts(second, now=now, channels=["email"], lease=LEASE, limit=10)
        assert len(held) == 1 and len(other) == 1 and held[0].id != other[0].id
        first.commit()
        second.commit()


def test_a_crawl_run_in_progress_is_sent_when_it_ends(engine: Engine) -> None:
    clock = Clock()
    with session_scope(engine) as session:
        run = crawl_run(session, status=CrawlStatus.running, started_at=clock.now - timedelta(minutes=5))
        found = [match(session), match(session)]
        enqueue_match_alerts(session, matches=found, channels=["email"], crawl_run_id=run.id, now=clock.now)
    channel = ScriptedChannel()
    outbox = make_dispatcher(engine, channel, clock=clock)
    assert outbox.dispatch_due().deliveries == []
    with session_scope(engine) as session:
        run.status = CrawlStatus.finished
        session.add(run)
    assert outbox.dispatch_due().sent == 2
    assert len(channel.accepted) == 1  # one message for the run


def test_one_message_per_crawl_run_and_channel_grouped_by_baseline(engine: Engine) -> None:
    with session_scope(engine) as session:
        shared = baseline_claim(session, text="Belarus will not join the war.")
        for _ in range(2):
            run = crawl_run(session)
            found = [
                match(session, baseline=shared, claim_text="Belarus will join the war.", verdict="contradicted"),
                match(session, baseline=shared, claim_text="Belarus will stay out of the war.", verdict="repeated"),
                match(session),
            ]
            enqueue_match_alerts(session, matches=found, channels=["email", "slack"], crawl_run_id=run.id)
    email, slack = ScriptedChannel("email"), ScriptedChannel("slack")
    report = make_dispatcher(engine, email, slack, clock=Clock(), cooldown=timedelta(0)).dispatch_due()
    assert report.sent == 12
    assert len(email.accepted) == 2 and len(slack.accepted) == 2
    text = email.accepted[0].text
    assert text.count("Baseline claim:") == 2  # three matches, two baseline claims
    assert text.index("Belarus will not join the war.") < text.index("CONTRADICTED") < text.index("REPEATED")


def test_backoff_grows_then_fails_after_the_bounded_attempts_and_retry_by_hand(engine: Engine) -> None:
    with session_scope(engine) as session:
        run_id, found = run_with_matches(session, 1)
        enqueue_match_alerts(session, matches=found, channels=["email"], crawl_run_id=run_id)
    clock = Clock()
    channel = ScriptedChannel()
    channel.errors = [TemporaryDeliveryError(f"try {n}", channel="email") for n in range(3)]
    outbox = make_dispatcher(engine, channel, clock=clock)
    waits = []
    for _ in range(2):
        [delivery] = outbox.dispatch_due().deliveries
        assert delivery.outcome == "retrying" and delivery.next_attempt_at is not None
        waits.append(delivery.next_attempt_at - clock.now)
        clock.now = delivery.next_attempt_at
    assert timedelta(seconds=0.5) <= waits[0] <= timedelta(seconds=1) < waits[1] <= timedelta(seconds=2)
    [delivery] = outbox.dispatch_due().deliveries
    assert delivery.outcome == "failed"
    [row] = alerts(engine)
    assert (row.status, row.attempts, row.last_error) == ("failed", 3, "gave up after 3 attempts: try 2")
    clock.advance(timedelta(days=1))
    assert outbox.dispatch_due().deliveries == []  # failed rows stay failed

    assert row.id is not None
    outbox.retry(row.id)
    with pytest.raises(AlertStateError):
        outbox.retry(row.id)  # pending already
    assert outbox.dispatch_due().sent == 1
    assert alerts(engine)[0].status == "sent"


def test_permanent_failure_fails_at_once(engine: Engine) -> None:
    with session_scope(engine) as session:
        run_id, found = run_with_matches(session, 2)
        enqueue_match_alerts(session, matches=found, channels=["email"], crawl_run_id=run_id)
    channel = ScriptedChannel()
    channel.errors = [PermanentDeliveryError("550 no such mailbox", channel="email")]
    make_dispatcher(engine, channel, clock=Clock()).dispatch_due()
    assert [(row.status, row.attempts, row.last_error) for row in alerts(engine)] == [
        ("failed", 1, "550 no such mailbox")
    ] * 2


def test_cool_down_per_baseline_claim_defers_and_never_drops(engine: Engine) -> None:
    clock = Clock()
    cooldown = timedelta(hours=1)
    with session_scope(engine) as session:
        hot = baseline_claim(session, text="Belarus hosts 12,000 Russian troops.")
        run = crawl_run(session)
        first = match(session, baseline=hot)
        enqueue_match_alerts(session, matches=[first], channels=["email"], crawl_run_id=run.id, now=clock.now)
    channel = ScriptedChannel()
    outbox = make_dispatcher(engine, channel, clock=clock, cooldown=cooldown)
    assert outbox.dispatch_due().sent == 1

    clock.advance(timedelta(minutes=10))
    with session_scope(engine) as session:
        run = crawl_run(session)
        again = match(session, baseline=hot, claim_text="Belarus hosts 17,500 Russian troops.")
        fresh = match(session, claim_text="Belarus closed its border.")
        enqueue_match_alerts(session, matches=[again, fresh], channels=["email"], crawl_run_id=run.id, now=clock.now)
    report = outbox.dispatch_due()
    assert [(d.outcome, len(d.alert_ids)) for d in report.deliveries] == [("deferred", 1), ("sent", 1)]
    assert "Belarus closed its border." in channel.accepted[1].text
    assert "17,500" not in channel.accepted[1].text

    clock.advance(timedelta(minutes=49))
    assert outbox.dispatch_due().deliveries == []
    clock.advance(timedelta(minutes=1))
    assert outbox.dispatch_due().sent == 1
    assert "17,500" in channel.accepted[2].text
    assert [row.attempts for row in alerts(engine)] == [1, 1, 1]  # waiting out a cool-down is no attempt


def test_configured_channels_and_the_notice(monkeypatch: pytest.MonkeyPatch) -> None:
    assert configured_channels(load_settings()) == []
    assert "no alert channel configured" in (no_channel_notice(load_settings()) or "")
    monkeypatch.setenv("MONITOR_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("MONITOR_EMAIL_FROM", "monitor@example.org")
    assert configured_channels(load_settings()) == []  # no recipients yet
    monkeypatch.setenv("MONITOR_EMAIL_TO", "analyst@example.org")
    monkeypatch.setenv("MONITOR_SLACK_WEBHOOK_URL", "https://hooks.slack.test/services/x")
    assert configured_channels(load_settings()) == ["email", "slack"]
    assert no_channel_notice(load_settings()) is None


# The dispatcher as a separate process, so the test can SIGKILL it mid-batch. Arguments: database URL,
# channel, target (SMTP port or webhook URL), seconds to add to the clock (to outlive the dead one's lease).
CHILD = """
import sys
from datetime import UTC, datetime, timedelta

import httpx
from pydantic import SecretStr

from alerts.channels.email import EmailChannel, SmtpConfig
from alerts.channels.slack import SlackChannel
from alerts.dispatcher import OutboxDispatcher
from monitor.storage.engine import make_engine

url, name, target, offset = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
if name == "email":
    channel = EmailChannel(SmtpConfig(host="127.0.0.1", port=int(target), sender="m@example.org",
                                      recipients=("a@example.org",), starttls=False, timeout=60))
else:
    channel = SlackChannel(SecretStr(target), client=httpx.Client(timeout=60))
dispatcher = OutboxDispatcher(make_engine(url), {name: channel}, cooldown=timedelta(0),
                              clock=lambda: datetime.now(UTC) + timedelta(seconds=offset))
report = dispatcher.drain()
print(report.sent)
"""


@pytest.fixture(params=["email", "slack"])
def receiver(request: pytest.FixtureRequest) -> Iterator[SmtpReceiver | SlackReceiver]:
    with running_smtp() if request.param == "email" else running_slack() as server:
        yield server


def start_child(engine: Engine, name: str, target: str, offset: float) -> subprocess.Popen[str]:
    url = engine.url.render_as_string(hide_password=False)
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, url, name, target, str(offset)],
        cwd=REPO,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def delivered_runs(receiver: SmtpReceiver | SlackReceiver) -> list[str]:
    """The crawl run each accepted message was for, read on the receiving side."""
    if isinstance(receiver, SmtpReceiver):
        subjects = [str(message["Subject"]) for message in receiver.messages]
    else:
        subjects = [payload["blocks"][0]["text"]["text"] for payload in receiver.payloads]
    return [subject.rsplit("(", 1)[1].rstrip(")") for subject in subjects]


def test_killed_mid_batch_then_restarted_delivers_every_alert_exactly_once(
    engine: Engine, receiver: SmtpReceiver | SlackReceiver
) -> None:
    name = "email" if isinstance(receiver, SmtpReceiver) else "slack"
    target = str(receiver.port) if isinstance(receiver, SmtpReceiver) else receiver.url
    with session_scope(engine) as session:
        runs = []
        for _ in range(4):
            run_id, found = run_with_matches(session, 2)
            enqueue_match_alerts(session, matches=found, channels=[name], crawl_run_id=run_id)
            runs.append(f"crawl run {run_id}")
    hold = receiver.handler.hold if isinstance(receiver, SmtpReceiver) else receiver.hold
    hold.at = 3  # the third message hangs in the receiver until the dispatcher is dead

    child = start_child(engine, name, target, offset=0)
    try:
        assert hold.reached.wait(WAIT), (
            (child.stderr.read() if child.stderr else "") if child.poll() is not None else "stuck"
        )
        child.send_signal(signal.SIGKILL)
        assert child.wait(WAIT) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
        hold.release.set()
    assert delivered_runs(receiver) == runs[:2]
    assert Counter(row.status for row in alerts(engine)) == {"sent": 4, "sending": 4}

    # Restarted after the dead dispatcher's lease ran out (its clock moved on instead of the test sleeping).
    again = start_child(engine, name, target, offset=LEASE.total_seconds() + 1)
    stdout, stderr = again.communicate(timeout=WAIT)
    assert again.returncode == 0, stderr
    assert stdout.strip() == "4"
    assert delivered_runs(receiver) == runs  # each run's message exactly once, in order
    if isinstance(receiver, SmtpReceiver):
        carried = [int(i) for m in receiver.messages for i in m["X-Claim-Monitor-Matches"].split(",")]
        assert len(carried) == len(set(carried)) == 8
    assert Counter(row.status for row in alerts(engine)) == {"sent": 8}


def test_a_dispatcher_releasing_held_alerts_another_took_already_says_nothing(engine: Engine) -> None:
    """Two dispatchers release the held rows at once; whichever comes second re-addresses nothing and
    says nothing (issue 11: "SAWarning: DELETE statement on table 'alerts' expected to delete 180 row(s)").

    On PostgreSQL the other dispatcher releases and commits right after this one's first read, the
    interleaving that produced the warning (SQLite's single writer serialises the two instead)."""
    import warnings

    from sqlalchemy import event

    from alerts.outbox import HELD, release_held_alerts

    with session_scope(engine) as session:
        enqueue_match_alerts(session, matches=[match(session) for _ in range(3)], channels=[HELD], crawl_run_id=None)
    now = datetime.now(UTC)
    released: list[int] = []

    def other_dispatcher_releases() -> None:
        with session_scope(engine) as other:
            released.append(release_held_alerts(other, channels=["email", "slack"], now=now))

    with engine.connect() as connection, warnings.catch_warnings():
        warnings.simplefilter("error")
        if engine.dialect.name == "postgresql":

            def after_first_read(*args: object) -> None:
                if str(args[2]).lstrip().upper().startswith("SELECT") and not released:
                    other_dispatcher_releases()

            event.listen(connection, "after_cursor_execute", after_first_read)
        with Session(bind=connection) as late:
            released.append(release_held_alerts(late, channels=["email", "slack"], now=now))
            late.commit()
        if len(released) == 1:
            other_dispatcher_releases()
    assert sorted(released) == [0, 3]
    with Session(engine) as session:
        channels = Counter(alert.channel for alert in session.exec(select(Alert)))
    assert channels == {"email": 3, "slack": 3}
