"""Email over SMTP (standard library `smtplib`): STARTTLS or implicit TLS (port 465), optional login.

Each message is multipart/alternative with a plain-text and an HTML part, and a Message-ID derived from
the batch key, so a resend after a crash carries the same Message-ID and mail clients can recognise it.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

from pydantic import SecretStr

from alerts.errors import DeliveryError, PermanentDeliveryError, TemporaryDeliveryError
from alerts.render import RenderedMessage
from monitor.config import Settings

logger = logging.getLogger(__name__)

IMPLICIT_TLS_PORT = 465
CHANNEL = "email"


@dataclass(frozen=True)
class SmtpConfig:
    """Where and as whom to send; `password` stays a SecretStr so it cannot be printed by accident."""

    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    user: str | None = None
    password: SecretStr | None = None
    starttls: bool = True
    implicit_tls: bool = False  # TLS from the first byte (SMTPS); MONITOR_SMTP_PORT=465 turns it on
    timeout: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpConfig | None:
        """The SMTP set-up in `settings`, or None unless host, sender and recipients are all set."""
        if not (settings.smtp_host and settings.email_from and settings.email_to):
            return None
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.email_from,
            recipients=tuple(settings.email_to),
            user=settings.smtp_user,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
            implicit_tls=settings.smtp_port == IMPLICIT_TLS_PORT,
        )


class EmailChannel:
    """Sends a `RenderedMessage` to every configured recipient in one SMTP transaction."""

    name = CHANNEL

    def __init__(self, config: SmtpConfig, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self.config = config
        self._ssl_context = ssl_context or ssl.create_default_context()

    def build_message(self, message: RenderedMessage) -> EmailMessage:
        """The MIME message: text part first, HTML part second (clients show the last they can)."""
        email = EmailMessage()
        email["Subject"] = message.subject
        email["From"] = self.config.sender
        email["To"] = ", ".join(self.config.recipients)
        email["Date"] = formatdate(localtime=False)
        email["Message-ID"] = f"<{message.key}@{self._domain()}>"
        if message.match_ids:
            email["X-Claim-Monitor-Matches"] = ",".join(str(match_id) for match_id in message.match_ids)
        email.set_content(message.text)
        email.add_alternative(message.html, subtype="html")
        return email

    def _domain(self) -> str:
        _, _, domain = self.config.sender.rpartition("@")
        return domain.strip(" >") or "claim-monitor.invalid"

    def send(self, message: RenderedMessage) -> None:
        """Deliver `message`; raise TemporaryDeliveryError (4xx, network) or PermanentDeliveryError (5xx)."""
        email = self.build_message(message)
        try:
            smtp = self._connect()
            try:
                refused = smtp.send_message(email)
            finally:
                _quit_quietly(smtp)
        except DeliveryError:
            raise
        except (smtplib.SMTPException, OSError) as exc:
            raise self._classify(exc) from None
        if refused:
            # The server took the message for the other recipients: retrying would send it to them twice.
            logger.warning(
                "email %s accepted, but refused for %s",
                message.key,
                ", ".join(f"{address} ({code})" for address, (code, _) in refused.items()),
            )

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        smtp: smtplib.SMTP
        if config.implicit_tls:
            smtp = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout, context=self._ssl_context)
        else:
            smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
        try:
            if config.starttls and not config.implicit_tls:
                smtp.ehlo()
                if not smtp.has_extn("starttls"):
                    raise PermanentDeliveryError(
                        f"SMTP server {config.host}:{config.port} does not offer STARTTLS "
                        "(set MONITOR_SMTP_STARTTLS=false only for a trusted local relay)",
                        channel=CHANNEL,
                    )
                smtp.starttls(context=self._ssl_context)
                smtp.ehlo()
            if config.user:
                password = config.password.get_secret_value() if config.password else ""
                smtp.login(config.user, password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _classify(self, exc: BaseException) -> DeliveryError:
        """Map an smtplib/socket error to a delivery error whose message holds no secret."""
        where = f"SMTP {self.config.host}:{self.config.port}"
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            codes = [code for code, _ in exc.recipients.values()]
            detail = "; ".join(
                f"{address}: {code} {_decode(reply)}" for address, (code, reply) in exc.recipients.items()
            )
            if any(400 <= code < 500 for code in codes):
                return TemporaryDeliveryError(f"{where} refused recipients for now: {detail}", channel=CHANNEL)
            return PermanentDeliveryError(f"{where} refused every recipient: {detail}", channel=CHANNEL)
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            return PermanentDeliveryError(f"{where} rejected the login ({exc.smtp_code})", channel=CHANNEL)
        if isinstance(exc, smtplib.SMTPResponseException):
            text = f"{where} replied {exc.smtp_code} {self._redact(_decode(exc.smtp_error))}"
            if 400 <= exc.smtp_code < 500:
                return TemporaryDeliveryError(text, channel=CHANNEL)
            return PermanentDeliveryError(text, channel=CHANNEL)
        if isinstance(exc, smtplib.SMTPNotSupportedError | ssl.SSLCertVerificationError):
            return PermanentDeliveryError(f"{where}: {type(exc).__name__}: {exc}", channel=CHANNEL)
        # Disconnects, refused connections and timeouts: the server may be back soon.
        reason = self._redact(str(exc)) or type(exc).__name__
        return TemporaryDeliveryError(f"{where} unreachable: {reason}", channel=CHANNEL)

    def _redact(self, text: str) -> str:
        password = self.config.password.get_secret_value() if self.config.password else ""
        return text.replace(password, "***") if password else text


def _quit_quietly(smtp: smtplib.SMTP) -> None:
    # Once DATA got its 250 the message is the server's; a failing QUIT must not make us send it again.
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _decode(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return " ".join(text.split())
