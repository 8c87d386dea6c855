"""Slack alerts against a local server that answers like Slack's incoming-webhook endpoint."""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from alert_servers import SlackReceiver, WebhookReply, running_slack
from factories import crawl_run, match
from pydantic import SecretStr
from sqlalchemy.engine import Engine

from alerts.channels.slack import SlackChannel
from alerts.dispatcher import OutboxDispatcher
from alerts.errors import PermanentDeliveryError, TemporaryDeliveryError
from alerts.outbox import enqueue_match_alerts
from alerts.render import RenderedMessage
from alerts.retry import RetryPolicy
from monitor.http.fetch import retry_after_seconds as parse_retry_after
from monitor.storage.engine import session_scope


@pytest.fixture
def slack() -> Iterator[SlackReceiver]:
    with running_slack() as receiver:
        yield receiver


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=httpx.Timeout(0.3)) as http_client:
        yield http_client


def channel(slack: SlackReceiver, client: httpx.Client) -> SlackChannel:
    return SlackChannel(SecretStr(slack.url), client=client)


def message() -> RenderedMessage:
    return RenderedMessage(key="k", subject="s", text="t", html="<p>h</p>", slack_text="fallback text")


def test_200_ok_is_sent(slack: SlackReceiver, client: httpx.Client) -> None:
    channel(slack, client).send(message())
    [payload] = slack.wait_for(1)
    assert payload["text"] == "fallback text"


def test_429_honours_retry_after(slack: SlackReceiver, client: httpx.Client) -> None:
    slack.replies.append(WebhookReply(429, "rate_limited", {"Retry-After": "42"}))
    with pytest.raises(TemporaryDeliveryError) as failure:
        channel(slack, client).send(message())
    assert failure.value.retry_after == 42.0


def test_500_is_temporary(slack: SlackReceiver, client: httpx.Client) -> None:
    slack.replies.append(WebhookReply(500, "internal_error"))
    with pytest.raises(TemporaryDeliveryError, match="500"):
        channel(slack, client).send(message())


def test_400_invalid_payload_is_permanent(slack: SlackReceiver, client: httpx.Client) -> None:
    slack.replies.append(WebhookReply(400, "invalid_payload"))
    with pytest.raises(PermanentDeliveryError, match="invalid_payload"):
        channel(slack, client).send(message())


def test_a_revoked_hook_is_permanent(slack: SlackReceiver, client: httpx.Client) -> None:
    hook = SlackChannel(SecretStr(slack.url.replace("s3cr3tT0k3n", "revoked")), client=client)
    with pytest.raises(PermanentDeliveryError, match="404 no_service"):
        hook.send(message())


def test_slow_reply_past_the_timeout_is_temporary(slack: SlackReceiver, client: httpx.Client) -> None:
    slack.replies.append(WebhookReply(delay=5.0))
    with pytest.raises(TemporaryDeliveryError, match="timed out"):
        channel(slack, client).send(message())


def test_a_timeout_says_how_long_it_waited_and_that_the_retry_may_repeat_the_message(
    slack: SlackReceiver, client: httpx.Client
) -> None:
    slack.replies.append(WebhookReply(delay=5.0))
    with pytest.raises(TemporaryDeliveryError, match=r"timed out after [0-9.]+ s .*may repeat it"):
        channel(slack, client).send(message())


def test_nobody_listening_is_temporary(client: httpx.Client) -> None:
    hook = SlackChannel(SecretStr("http://127.0.0.1:9/services/T/B/secret"), client=client)
    with pytest.raises(TemporaryDeliveryError):
        hook.send(message())


def test_the_webhook_url_never_reaches_errors_or_logs(
    slack: SlackReceiver, client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    slack.replies.extend([WebhookReply(500, "oops"), WebhookReply(400, "invalid_payload")])
    hook = channel(slack, client)
    errors = []
    for _ in range(2):
        with pytest.raises(Exception) as failure:
            hook.send(message())
        errors.append(str(failure.value))
    hook.send(message())
    assert "HTTP Request: POST" in caplog.text  # httpx did log its requests, but masked
    assert "s3cr3tT0k3n" not in caplog.text
    assert all("s3cr3tT0k3n" not in error for error in errors)


def test_retry_after_as_http_date() -> None:
    now = datetime(2024, 5, 2, 12, 0, tzinfo=UTC)
    assert parse_retry_after("Thu, 02 May 2024 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("soon", now=now) is None


def test_dispatcher_waits_as_long_as_slack_asks_then_sends_once(
    sqlite_engine: Engine, slack: SlackReceiver, client: httpx.Client
) -> None:
    slack.replies.append(WebhookReply(429, "rate_limited", {"Retry-After": "120"}))
    with session_scope(sqlite_engine) as session:
        run = crawl_run(session)
        found = [
            match(session, claim_text="Lukashenka: <!channel> Belarus will <b>never</b> join the war & more."),
            match(session, claim_text="Belarus has 9,000 troops.", verdict="contradicted"),
        ]
        enqueue_match_alerts(session, matches=found, channels=["slack"], crawl_run_id=run.id)
    now = datetime.now(UTC)
    clock = [now]
    outbox = OutboxDispatcher(
        sqlite_engine,
        {"slack": channel(slack, client)},
        clock=lambda: clock[0],
        rng=random.Random(1),
        policy=RetryPolicy(base=timedelta(seconds=1)),
    )
    [delivery] = outbox.dispatch_due().deliveries
    assert delivery.outcome == "retrying" and delivery.next_attempt_at == now + timedelta(seconds=120)
    clock[0] = now + timedelta(seconds=119)
    assert outbox.dispatch_due().deliveries == []
    clock[0] = now + timedelta(seconds=120)
    assert outbox.dispatch_due().sent == 2
    clock[0] = now + timedelta(hours=2)
    assert outbox.dispatch_due().deliveries == []

    [payload] = slack.wait_for(1)
    assert payload["blocks"][0]["type"] == "header"
    assert payload["blocks"][0]["text"]["text"].startswith("Claim Monitor: 1 contradicted, 1 updated")
    mrkdwn = "\n".join(
        block["text"]["text"] for block in payload["blocks"] if block.get("text", {}).get("type") == "mrkdwn"
    )
    assert "&lt;!channel&gt;" in mrkdwn and "<!channel>" not in mrkdwn
    assert "&lt;b&gt;never&lt;/b&gt; join the war &amp; more." in mrkdwn
    assert "#:~:text=" in mrkdwn
    assert "12,000-15,000 -&gt; 9,000" in mrkdwn  # the evidence, escaped like everything else
    # Contradictions first: the baseline groups are ordered by their strongest verdict.
    assert mrkdwn.index("CONTRADICTED") < mrkdwn.index("UPDATED")
