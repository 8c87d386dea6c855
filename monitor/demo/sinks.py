"""Local stand-ins for the outside world's receivers: an SMTP sink and a Slack-style incoming webhook.

Both listen on 127.0.0.1 only and keep what they accepted; the mail sink also writes each message to a
folder as an `.eml` file, which any mail client opens. They record a delivery before answering it, so once
the sender has its answer the delivery is visible here.
"""

from __future__ import annotations

import json
import secrets
import socket
import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

from monitor.errors import MonitorError


class MissingDemoDependency(MonitorError):
    """A package the demo needs (aiosmtpd) is not installed."""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 at the time of asking."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class ReceivedMail:
    subject: str
    recipients: tuple[str, ...]
    path: Path | None
    message: EmailMessage


class _MailHandler:
    """aiosmtpd handler: accepts every message, keeps it, and writes it as `<folder>/NNN.eml`."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.received: list[ReceivedMail] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = bytes(envelope.content)
        message = cast(EmailMessage, message_from_bytes(content, policy=policy.default))
        with self.lock:
            path = None
            if self.folder is not None:
                path = self.folder / f"{len(self.received) + 1:03d}.eml"
                path.write_bytes(content)
            self.received.append(
                ReceivedMail(str(message["Subject"] or "").strip(), tuple(envelope.rcpt_tos), path, message)
            )
        return "250 2.0.0 accepted by the local mail sink"


class MailSink:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 at a free port, without TLS or login."""

    def __init__(self, folder: Path | None = None) -> None:
        try:
            from aiosmtpd.controller import Controller
        except ImportError as exc:
            raise MissingDemoDependency(
                "the local mail sink needs aiosmtpd: install it with `pip install aiosmtpd` (`make install` does)"
            ) from exc
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
        self.host = "127.0.0.1"
        self.port = free_port()
        self._handler = _MailHandler(folder)
        self._controller = Controller(self._handler, hostname=self.host, port=self.port)

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    @property
    def received(self) -> list[ReceivedMail]:
        with self._handler.lock:
            return list(self._handler.received)


class SlackSink:
    """An HTTP server that answers like Slack's incoming-webhook endpoint (200 `ok`) and keeps each payload."""

    def __init__(self, folder: Path | None = None) -> None:
        # A secret-looking path, as Slack's are, so the webhook URL is handled as the secret it is.
        self.path = f"/services/TDEMO/BDEMO/{secrets.token_hex(12)}"
        self.folder = folder
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
        self._payloads: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="slack-sink", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{self.path}"

    @property
    def payloads(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._payloads)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _accept(self, body: bytes) -> int:
        try:
            payload = json.loads(body)
        except ValueError:
            return 400
        with self._lock:
            self._payloads.append(payload)
            if self.folder is not None:
                path = self.folder / f"{len(self._payloads):03d}.json"
                path.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
        return 200

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status = sink._accept(body) if self.path == sink.path else 404
                reply = {200: b"ok", 400: b"invalid_payload", 404: b"no_service"}[status]
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler


def slack_as_text(payload: dict[str, Any]) -> str:
    """A Slack payload as a reader sees it, in plain text: each block's text (mrkdwn left as written)."""
    parts = []
    for block in payload.get("blocks") or []:
        text = block.get("text")
        if isinstance(text, dict) and text.get("text"):
            parts.append(str(text["text"]))
        elif block.get("type") == "divider":
            parts.append("---")
    return "\n".join(parts) if parts else str(payload.get("text", ""))


def mail_as_text(message: EmailMessage) -> str:
    """The plain-text part of an email (what a text mail client shows)."""
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def slack_headline(payload: dict[str, Any]) -> str:
    """The first line a Slack user would see of a payload: its header block, else its fallback text."""
    for block in payload.get("blocks") or []:
        if block.get("type") == "header":
            return str(block.get("text", {}).get("text", ""))
    return str(payload.get("text", "")).splitlines()[0] if payload.get("text") else ""
