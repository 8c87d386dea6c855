"""Email alerts against a real SMTP server on 127.0.0.1 (aiosmtpd): MIME, escaping, TLS, login, outages."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from alert_servers import SmtpReceiver, password_authenticator, running_smtp, self_signed_tls
from factories import Clock, crawl_run, match
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import select

from alerts.channels.email import EmailChannel, SmtpConfig
from alerts.dispatcher import OutboxDispatcher
from alerts.errors import PermanentDeliveryError, TemporaryDeliveryError
from alerts.outbox import enqueue_match_alerts
from alerts.render import RenderedMessage
from alerts.retry import RetryPolicy
from monitor.config import load_settings
from monitor.storage.engine import session_scope
from monitor.storage.models import Alert

RECIPIENTS = ("analyst@example.org", "desk@example.org")


def smtp_config(port: int, **fields: object) -> SmtpConfig:
    options: dict[str, object] = {"starttls": False, "timeout": 5.0, **fields}
    return SmtpConfig(host="127.0.0.1", port=port, sender="monitor@example.org", recipients=RECIPIENTS, **options)  # type: ignore[arg-type]


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    with running_smtp() as receiver:
        yield receiver


def enqueue(engine: Engine, *claim_texts: str, **match_fields: object) -> list[int]:
    with session_scope(engine) as session:
        run = crawl_run(session)
        matches = [match(session, claim_text=text, **match_fields) for text in claim_texts]  # type: ignore[arg-type]
        enqueue_match_alerts(session, matches=matches, channels=["email"], crawl_run_id=run.id)
    return [m.id for m in matches if m.id is not None]


def dispatcher(engine: Engine, port: int, clock: Clock, **options: object) -> OutboxDispatcher:
    channel = EmailChannel(smtp_config(port))
    return OutboxDispatcher(
        engine,
        {"email": channel},
        clock=clock,
        rng=random.Random(7),
        policy=RetryPolicy(base=timedelta(seconds=1), cap=timedelta(seconds=8), max_attempts=4),
        **options,  # type: ignore[arg-type]
    )


def statuses(engine: Engine) -> list[tuple[str, int, str | None]]:
    with session_scope(engine) as session:
        rows = session.exec(select(Alert).order_by(Alert.id)).all()  # type: ignore[arg-type]
        return [(row.status, row.attempts, row.last_error) for row in rows]


def test_matches_arrive_as_one_well_formed_multipart_message(sqlite_engine: Engine, smtp: SmtpReceiver) -> None:
    enqueue(
        sqlite_engine,
        "Belarus has 9,000 troops <script>alert(1)</script> near the border.",
        "Lukashenka said Belarus would never join the war & <!channel> knows it.",
        title="<b>Headline</b>",
    )
    report = dispatcher(sqlite_engine, smtp.port, Clock()).dispatch_due()

    assert report.sent == 2
    [message] = smtp.handler.wait_for(1)
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["To"] == ", ".join(RECIPIENTS)
    assert message["Subject"].startswith("Claim Monitor: 2 updated")
    assert message["Message-ID"].startswith("<claim-monitor.email.run-") and message["Message-ID"].endswith(
        "@example.org>"
    )
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "Belarus has 9,000 troops <script>alert(1)</script> near the border." in text
    assert "figure changed: 12,000-15,000 -> 9,000" in text
    assert "#:~:text=" in text
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>Headline</b>" not in html and "&lt;b&gt;Headline&lt;/b&gt;" in html
    assert "&amp; &lt;!channel&gt;" in html
    assert statuses(sqlite_engine) == [("sent", 1, None), ("sent", 1, None)]


def test_server_down_for_a_while_then_up_everything_arrives_once(sqlite_engine: Engine) -> None:
    receiver = SmtpReceiver()  # its port is reserved, but nothing listens yet
    enqueue(sqlite_engine, "Belarus has 9,000 troops.", "Belarus has 8,000 troops.")
    clock = Clock()
    outbox = dispatcher(sqlite_engine, receiver.port, clock)

    for _ in range(2):
        report = outbox.dispatch_due()
        assert [d.outcome for d in report.deliveries] == ["retrying"]
        assert outbox.dispatch_due().deliveries == []  # not due again before the backoff ends
        clock.advance(timedelta(seconds=10))
    assert [status for status, _, _ in statuses(sqlite_engine)] == ["pending", "pending"]
    assert all("unreachable" in (error or "") for _, _, error in statuses(sqlite_engine))

    receiver.start()
    try:
        assert outbox.drain().sent == 2
        clock.advance(timedelta(hours=1))
        assert outbox.drain().deliveries == []
        assert len(receiver.handler.wait_for(1)) == 1
    finally:
        receiver.stop()
    assert [(status, attempts) for status, attempts, _ in statuses(sqlite_engine)] == [("sent", 3), ("sent", 3)]


def test_temporary_4xx_is_retried_and_then_delivered(sqlite_engine: Engine, smtp: SmtpReceiver) -> None:
    smtp.handler.data_replies.append("451 4.7.1 greylisted, try again later")
    enqueue(sqlite_engine, "Belarus has 9,000 troops.")
    clock = Clock()
    outbox = dispatcher(sqlite_engine, smtp.port, clock)

    [delivery] = outbox.dispatch_due().deliveries
    assert delivery.outcome == "retrying" and "451" in (delivery.error or "")
    assert delivery.next_attempt_at is not None
    # Backoff after the first failure is base (1 s) jittered into [0.5 s, 1 s].
    assert timedelta(seconds=0.5) <= delivery.next_attempt_at - clock.now <= timedelta(seconds=1)
    clock.advance(timedelta(seconds=1))
    assert outbox.dispatch_due().sent == 1
    assert len(smtp.messages) == 1


def test_permanent_5xx_bad_address_fails_at_once(sqlite_engine: Engine, smtp: SmtpReceiver) -> None:
    for address in RECIPIENTS:
        smtp.handler.rcpt_replies[address] = "550 5.1.1 no such mailbox"
    enqueue(sqlite_engine, "Belarus has 9,000 troops.")
    outbox = dispatcher(sqlite_engine, smtp.port, Clock())

    [delivery] = outbox.dispatch_due().deliveries
    assert delivery.outcome == "failed"
    [(status, attempts, error)] = statuses(sqlite_engine)
    assert (status, attempts) == ("failed", 1)
    assert "550" in (error or "") and "analyst@example.org" in (error or "")
    assert smtp.messages == []


def test_after_max_attempts_failed_with_last_error_then_retried_by_hand(
    sqlite_engine: Engine, smtp: SmtpReceiver
) -> None:
    smtp.handler.data_replies.extend(["452 4.3.1 mailbox full"] * 4)
    enqueue(sqlite_engine, "Belarus has 9,000 troops.")
    clock = Clock()
    outbox = dispatcher(sqlite_engine, smtp.port, clock)
    outcomes = []
    for _ in range(4):
        outcomes += [d.outcome for d in outbox.dispatch_due().deliveries]
        clock.advance(timedelta(seconds=10))
    assert outcomes == ["retrying", "retrying", "retrying", "failed"]
    [(status, attempts, error)] = statuses(sqlite_engine)
    assert (status, attempts) == ("failed", 4)
    assert error is not None and error.startswith("gave up after 4 attempts") and "452" in error

    with session_scope(sqlite_engine) as session:
        alert_id = session.exec(select(Alert)).one().id
    assert alert_id is not None
    outbox.retry(alert_id)
    assert outbox.dispatch_due().sent == 1
    assert len(smtp.handler.wait_for(1)) == 1


def message(key: str = "claim-monitor.email.test") -> RenderedMessage:
    return RenderedMessage(key=key, subject="Subject", text="plain", html="<p>html</p>", slack_text="plain")


def test_starttls_and_login(tmp_path: Path) -> None:
    server_tls, client_tls = self_signed_tls(tmp_path)
    with running_smtp(
        tls_context=server_tls,
        require_starttls=True,
        auth_required=True,
        authenticator=password_authenticator("monitor", "hunter2-secret"),
    ) as receiver:
        good = smtp_config(receiver.port, starttls=True, user="monitor", password=SecretStr("hunter2-secret"))
        EmailChannel(good, ssl_context=client_tls).send(message())
        assert len(receiver.handler.wait_for(1)) == 1

        bad = smtp_config(receiver.port, starttls=True, user="monitor", password=SecretStr("wrong-secret"))
        with pytest.raises(PermanentDeliveryError) as failure:
            EmailChannel(bad, ssl_context=client_tls).send(message())
        assert "wrong-secret" not in str(failure.value) and "login" in str(failure.value)

        plain = smtp_config(receiver.port, starttls=False)
        with pytest.raises(PermanentDeliveryError):  # the server demands STARTTLS before MAIL
            EmailChannel(plain).send(message())


def test_implicit_tls(tmp_path: Path) -> None:
    server_tls, client_tls = self_signed_tls(tmp_path)
    with running_smtp(ssl_context=server_tls) as receiver:
        config = smtp_config(receiver.port, implicit_tls=True)
        EmailChannel(config, ssl_context=client_tls).send(message())
        assert len(receiver.handler.wait_for(1)) == 1
        # Without trusting the certificate the handshake fails, and retrying cannot fix that.
        with pytest.raises(PermanentDeliveryError):
            EmailChannel(config).send(message())


def test_connection_refused_is_temporary() -> None:
    receiver = SmtpReceiver()
    with pytest.raises(TemporaryDeliveryError):
        EmailChannel(smtp_config(receiver.port)).send(message())


def test_settings_make_the_config_and_port_465_means_implicit_tls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITOR_SMTP_HOST", "mail.example.org")
    monkeypatch.setenv("MONITOR_SMTP_PORT", "465")
    monkeypatch.setenv("MONITOR_SMTP_PASSWORD", "pw-secret")
    monkeypatch.setenv("MONITOR_EMAIL_FROM", "monitor@example.org")
    monkeypatch.setenv("MONITOR_EMAIL_TO", "a@example.org, b@example.org")
    config = SmtpConfig.from_settings(load_settings())
    assert config is not None
    assert config.implicit_tls and config.recipients == ("a@example.org", "b@example.org")
    assert "pw-secret" not in repr(config)
    monkeypatch.delenv("MONITOR_EMAIL_TO")
    assert SmtpConfig.from_settings(load_settings()) is None
