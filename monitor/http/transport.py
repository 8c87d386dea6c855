"""An httpx client that connects only where `monitor.http.safety` allows, for fetches a user's input names.

`baseline add URL` (CLI and web) fetches an address someone typed or pasted, and follows its redirects.
The check sits where httpcore opens a TCP connection: the host is resolved once, the addresses the policy
refuses are dropped, and the socket is opened to a checked address. httpcore still sends the URL's host
name as the `Host` header and as the TLS server name, so virtual hosts and certificates work as usual,
and every redirect opens its connection through the same check.
"""

from __future__ import annotations

import socket
import typing

import httpcore
import httpx

from monitor.http.safety import AddressPolicy, Lookup

__all__ = ["GuardedNetworkBackend", "GuardedTransport", "guarded_client"]

# httpx's own default limits, which a rebuilt pool would otherwise lose.
_DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0)


class GuardedNetworkBackend(httpcore.SyncBackend):
    """Opens TCP connections only to addresses the policy allows (DestinationRefused otherwise)."""

    def __init__(self, policy: AddressPolicy, *, lookup: Lookup = socket.getaddrinfo) -> None:
        self.policy = policy
        self.lookup = lookup

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = self.policy.allowed_addresses(host, port, lookup=self.lookup)
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from None
        failure: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                failure = exc
        assert failure is not None  # allowed_addresses never returns an empty list
        raise failure


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport over a connection pool whose connections go through `GuardedNetworkBackend`.

    No proxy from the environment: a proxy would make the connection to the destination, unchecked.
    """

    def __init__(self, policy: AddressPolicy, *, lookup: Lookup = socket.getaddrinfo) -> None:
        super().__init__(trust_env=False)
        # httpx has no parameter for the network backend, so its pool is replaced by the same pool with ours.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=_DEFAULT_LIMITS.max_connections,
            max_keepalive_connections=_DEFAULT_LIMITS.max_keepalive_connections,
            keepalive_expiry=_DEFAULT_LIMITS.keepalive_expiry,
            network_backend=GuardedNetworkBackend(policy, lookup=lookup),
        )


def guarded_client(
    policy: AddressPolicy, *, lookup: Lookup = socket.getaddrinfo, **client_options: typing.Any
) -> httpx.Client:
    """An `httpx.Client` (with `client_options`) whose every connection, redirects included, is checked."""
    return httpx.Client(transport=GuardedTransport(policy, lookup=lookup), trust_env=False, **client_options)
