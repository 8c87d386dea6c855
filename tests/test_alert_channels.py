"""One contract, every channel: each alert channel passes the same tests against its real local receiver."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from alert_servers import SlackReceiver, SmtpReceiver, WebhookReply, running_slack, running_smtp
from click.testing import CliRunner
from factories import Clock, crawl_run, match
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import select

from alerts.channels.base import AlertChannel
from alerts.channels.email import EmailChannel, SmtpConfig
from alerts.channels.slack import SlackChannel
from alerts.dispatcher import OutboxDispatcher
from alerts.outbox import enqueue_match_alerts
from alerts.retry import RetryPolicy
from monitor.cli import main
from monitor.storage.engine import session_scope
from monitor.storage.models import Alert


@dataclass
class Harness:
    """A channel wired to its receiver, with ways to make the receiver refuse and to read what arrived."""

    channel: AlertChannel
    refuse_temporarily: Callable[[], None]
    refuse_permanently: Callable[[], None]
    received: Callable[[], list[str]]  # the text a person reads in each accepted message


def email_harness(receiver: SmtpReceiver) -> Harness:
    config = SmtpConfig(
        host="127.0.0.1", port=receiver.port, sender="m@example.org", recipients=("a@example.org",), starttls=False
    )

    def received() -> list[str]:
        return [m.get_body(("html",)).get_content() for m in receiver.messages]  # type: ignore[union-attr]

    return Harness(
        channel=EmailChannel(config),
        refuse_temporarily=lambda: receiver.handler.data_replies.append("451 4.3.0 try later"),
        refuse_permanently=lambda: receiver.handler.data_replies.append("554 5.7.1 rejected"),
        received=received,
    )


def slack_harness(receiver: SlackReceiver, client: httpx.Client) -> Harness:
    def received() -> list[str]:
        return [
            "\n".join(str(block.get("text", {}).get("text", "")) for block in p["blocks"]) for p in receiver.payloads
        ]

    return Harness(
        channel=SlackChannel(SecretStr(receiver.url), client=client),
        refuse_temporarily=lambda: receiver.replies.append(WebhookReply(503, "service_unavailable")),
        refuse_permanently=lambda: receiver.replies.append(WebhookReply(400, "invalid_payload")),
        received=received,
    )


@pytest.fixture(params=["email", "slack"])
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    if request.param == "email":
        with running_smtp() as smtp:
            yield email_harness(smtp)
    else:
        with running_slack() as slack, httpx.Client(timeout=2.0) as client:
            yield slack_harness(slack, client)


def setup_outbox(engine: Engine, harness: Harness, *claims: str) -> tuple[OutboxDispatcher, Clock]:
    with session_scope(engine) as session:
        run = crawl_run(session)
        found = [match(session, claim_text=text) for text in claims]
        enqueue_match_alerts(session, matches=found, channels=[harness.channel.name], crawl_run_id=run.id)
    clock = Clock()
    dispatcher = OutboxDispatcher(
        engine,
        {harness.channel.name: harness.channel},
        clock=clock,
        rng=random.Random(5),
        policy=RetryPolicy(base=timedelta(seconds=1), max_attempts=3),
    )
    return dispatcher, clock


def statuses(engine: Engine) -> list[str]:
    with session_scope(engine) as session:
        return [row.status for row in session.exec(select(Alert).order_by(Alert.id))]  # type: ignore[arg-type]


def test_accepted_once_and_marked_sent(sqlite_engine: Engine, harness: Harness) -> None:
    outbox, _ = setup_outbox(sqlite_engine, harness, "Belarus has 9,000 troops.", "Belarus has 8,000 troops.")
    assert outbox.drain().sent == 2
    assert outbox.drain().deliveries == []
    [body] = harness.received()
    assert "Belarus has 9,000 troops." in body and "Belarus has 8,000 troops." in body
    assert statuses(sqlite_engine) == ["sent", "sent"]


def test_temporary_refusal_retries_then_arrives_once(sqlite_engine: Engine, harness: Harness) -> None:
    harness.refuse_temporarily()
    outbox, clock = setup_outbox(sqlite_engine, harness, "Belarus has 9,000 troops.")
    assert [d.outcome for d in outbox.dispatch_due().deliveries] == ["retrying"]
    assert statuses(sqlite_engine) == ["pending"]
    clock.now += timedelta(seconds=2)
    assert outbox.dispatch_due().sent == 1
    assert len(harness.received()) == 1


def test_permanent_refusal_fails_at_once_and_retry_by_hand_delivers(sqlite_engine: Engine, harness: Harness) -> None:
    harness.refuse_permanently()
    outbox, _ = setup_outbox(sqlite_engine, harness, "Belarus has 9,000 troops.")
    assert [d.outcome for d in outbox.dispatch_due().deliveries] == ["failed"]
    assert statuses(sqlite_engine) == ["failed"] and harness.received() == []
    with session_scope(sqlite_engine) as session:
        alert_id = session.exec(select(Alert)).one().id
    assert alert_id is not None
    outbox.retry(alert_id)
    assert outbox.dispatch_due().sent == 1
    assert len(harness.received()) == 1


def test_scraped_markup_arrives_as_text(sqlite_engine: Engine, harness: Harness) -> None:
    outbox, _ = setup_outbox(sqlite_engine, harness, "Breaking <!channel> <script>alert(1)</script> & more.")
    outbox.drain()
    [body] = harness.received()
    assert "<script>" not in body and "<!channel>" not in body
    assert "&lt;script&gt;" in body and "&lt;!channel&gt;" in body and "&amp; more" in body


def test_cli_alerts_list_send_retry(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITOR_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    runner = CliRunner()
    assert runner.invoke(main, ["init"]).exit_code == 0  # only init creates the database
    sent = runner.invoke(main, ["alerts", "send"])
    assert sent.exit_code == 0
    assert "no alert channel configured" in sent.output  # click >= 8.2 mixes stderr into output
    assert runner.invoke(main, ["alerts", "list"]).output.strip() == "No alerts."
    missing = runner.invoke(main, ["alerts", "retry", "99"])
    assert missing.exit_code == 1 and "no alert with id 99" in missing.output
