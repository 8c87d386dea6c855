"""A name resolver stub for the crawl-safety tests, and a tripwire on every connection the crawl opens.

Both run inside the crawl's child process (named in its Scrapy settings), so they live in an importable
module. Tests must never send traffic beyond loopback, even when the code under test is wrong:

- `stub_getaddrinfo` resolves a few `.newssite.test` names the way a hostile DNS answer would (a public
  looking name pointing at a private, link-local or another loopback address) and every other host as
  the system does;
- `ConnectionTripwire` (a Scrapy extension) records the destination of every TCP connection the crawl
  process tries, and lets through only 127.0.0.1: a name the guard wrongly passed fails to connect
  instead of sending a packet to 10.x. The test then reads the record.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any, Self

# name -> the address the stub resolves it to.
STUB_NAMES = {
    "intranet.newssite.test": "10.20.30.40",
    "metadata.newssite.test": "169.254.169.254",
    "loopback-alias.newssite.test": "127.0.0.2",
}
TRIPWIRE_LOG_SETTING = "TEST_CONNECTION_LOG"
TRIPWIRE_ALLOWS = "127.0.0.1"


def stub_getaddrinfo(host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0) -> Any:
    name = host.decode() if isinstance(host, bytes) else str(host)
    if name in STUB_NAMES:
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (STUB_NAMES[name], int(port or 0)))]
    return socket.getaddrinfo(host, port, family, type, proto, flags)


class ConnectionTripwire:
    """Records every TCP connect of this process to the file named by TEST_CONNECTION_LOG (one JSON line
    each) and refuses any destination other than 127.0.0.1."""

    def __init__(self, log: Path) -> None:
        self.log = log
        original_connect_ex = socket.socket.connect_ex
        original_connect = socket.socket.connect
        tripwire = self

        def connect_ex(sock: socket.socket, address: Any) -> int:
            if not tripwire.allowed(sock, address):
                return 111  # ECONNREFUSED: nothing left this machine
            return original_connect_ex(sock, address)

        def connect(sock: socket.socket, address: Any) -> None:
            if not tripwire.allowed(sock, address):
                raise ConnectionRefusedError(111, "refused by the test's tripwire")
            original_connect(sock, address)

        socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
        socket.socket.connect = connect  # type: ignore[method-assign]

    @classmethod
    def from_crawler(cls, crawler: Any) -> Self:
        return cls(Path(crawler.settings.get(TRIPWIRE_LOG_SETTING)))

    def allowed(self, sock: socket.socket, address: Any) -> bool:
        if sock.family not in (socket.AF_INET, socket.AF_INET6) or not isinstance(address, tuple):
            return True  # a Unix socket (the pipe to the parent, a database) is not the network
        host = str(address[0])
        with self.log.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps({"host": host, "port": address[1]}) + "\n")
        return host == TRIPWIRE_ALLOWS


def recorded_connections(log: Path) -> list[dict[str, Any]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
