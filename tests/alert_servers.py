"""Local receivers the alert tests deliver to: a real SMTP server (aiosmtpd) and a Slack-like webhook.

Both count what they accepted, can be scripted to refuse the next deliveries (temporarily or for good), and
can hold the N-th delivery until released, so a test can kill a dispatcher in the middle of a batch.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import socket
import ssl
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

WAIT = 30.0  # the bound on every wait for an event in these tests


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Hold:
    """Holds the `at`-th delivery (1-based) until `release` is set; `reached` tells the test it got there."""

    at: int | None = None
    reached: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


class SmtpHandler:
    """aiosmtpd handler: records accepted messages; replies from `data_replies`/`rcpt_replies` first."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.data_replies: deque[str] = deque()
        self.rcpt_replies: dict[str, str] = {}
        self.hold = Hold()
        self.data_commands = 0
        self.arrived = threading.Condition()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.data_commands += 1
        if self.hold.at == self.data_commands:
            self.hold.reached.set()
            await asyncio.get_running_loop().run_in_executor(None, self.hold.release.wait, WAIT)
            return "451 4.3.0 held message not accepted"
        if self.data_replies:
            return self.data_replies.popleft()
        message = cast(EmailMessage, message_from_bytes(envelope.content, policy=policy.default))
        with self.arrived:
            self.messages.append(message)
            self.arrived.notify_all()
        return "250 2.0.0 accepted"

    def wait_for(self, count: int) -> list[EmailMessage]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.messages) >= count, timeout=WAIT)
            return list(self.messages)


class SmtpReceiver:
    """A real SMTP server on 127.0.0.1 that can be stopped and started again on the same port."""

    def __init__(self, *, port: int | None = None, **smtp_parameters: Any) -> None:
        self.handler = SmtpHandler()
        self.port = port or free_port()
        self._parameters = smtp_parameters
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **self._parameters)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self.handler.hold.release.set()
            self._controller.stop()
            self._controller = None

    @property
    def messages(self) -> list[EmailMessage]:
        return list(self.handler.messages)


@contextmanager
def running_smtp(**parameters: Any) -> Iterator[SmtpReceiver]:
    receiver = SmtpReceiver(**parameters)
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()


def password_authenticator(user: str, password: str) -> Any:
    """An aiosmtpd authenticator accepting only `user` / `password`."""

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.login == user.encode() and data.password == password.encode()
        return AuthResult(success=ok, handled=False)

    return authenticate


def self_signed_tls(folder: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context trusting it) for a certificate made for 127.0.0.1."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_path, key_path)
    client = ssl.create_default_context(cafile=str(cert_path))
    return server, client


@dataclass
class WebhookReply:
    status: int = 200
    body: str = "ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (a slow Slack)


class SlackReceiver:
    """An HTTP server that answers like Slack's incoming-webhook endpoint at a secret-looking path."""

    path = "/services/T000/B000/s3cr3tT0k3n"

    def __init__(self) -> None:
        self.payloads: list[dict[str, Any]] = []
        self.requests = 0
        self.replies: deque[WebhookReply] = deque()
        self.hold = Hold()
        self.arrived = threading.Condition()
        self.stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{self.path}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.hold.release.set()
        self._server.shutdown()
        self._server.server_close()

    def wait_for(self, count: int) -> list[dict[str, Any]]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.payloads) >= count, timeout=WAIT)
            return list(self.payloads)

    def _answer(self, body: bytes) -> WebhookReply | None:
        """The reply to one POST, recording the payload when it is accepted; None when held and dropped."""
        with self.arrived:
            self.requests += 1
            number = self.requests
            reply = self.replies.popleft() if self.replies else WebhookReply()
        if self.hold.at == number:
            self.hold.reached.set()
            self.hold.release.wait(WAIT)
            return None
        if reply.delay:
            self.stopping.wait(reply.delay)
        if reply.status == 200:
            with self.arrived:
                self.payloads.append(json.loads(body))
                self.arrived.notify_all()
        return reply

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                if self.path != receiver.path:
                    self._send(WebhookReply(404, "no_service"))
                    return
                try:
                    json.loads(body)
                except ValueError:
                    self._send(WebhookReply(400, "invalid_payload"))
                    return
                reply = receiver._answer(body)
                if reply is not None:
                    self._send(reply)

            def _send(self, reply: WebhookReply) -> None:
                data = reply.body.encode()
                try:
                    self.send_response(reply.status)
                    for name, value in {"Content-Type": "text/plain", **reply.headers}.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (a timeout test): nothing to answer

            def log_message(self, format: str, *args: Any) -> None:
                return  # keep test output quiet

        return Handler


@contextmanager
def running_slack() -> Iterator[SlackReceiver]:
    receiver = SlackReceiver()
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()
