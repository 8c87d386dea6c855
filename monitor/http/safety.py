"""Where Claim Monitor may fetch from: `http`/`https` only, and never an internal address.

Feeds and sitemaps are written by strangers, and so are the pages a feed links to and the redirects they
answer with. Anything they name is fetched only when

- its scheme is http or https (no `file:`, `data:`, `ftp:`, `javascript:`...), and
- the address actually connected to is a public one: loopback, private, link-local, multicast, reserved,
  unspecified and other non-global addresses (IPv4 and IPv6) are refused, unless they fall inside
  `MONITOR_CRAWL_ALLOWED_NETWORKS` (an intranet site crawled on purpose).

A literal address is judged from the URL, in every spelling the C library would accept (`0x7f000001`,
`2130706433`, `0177.0.0.1`, `[::ffff:127.0.0.1]`). A name is judged on the addresses it resolves to, where
the connection is made (`spiders.safety` for the crawler, `monitor.http.transport` for httpx), so a public name
that resolves to 10.x is refused too, and a DNS answer cannot change between the check and the connect.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from monitor.errors import InputError

__all__ = [
    "ALLOWED_NETWORKS_SETTING",
    "ALLOWED_SCHEMES",
    "AddressPolicy",
    "DestinationRefused",
    "IPAddress",
    "Lookup",
    "Network",
    "address_category",
    "literal_address",
    "parse_networks",
    "scheme_refusal",
]

ALLOWED_SCHEMES = ("http", "https")
ALLOWED_NETWORKS_SETTING = "MONITOR_CRAWL_ALLOWED_NETWORKS"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# `socket.getaddrinfo`'s shape: (host, port, family, type) -> [(family, type, proto, canonname, sockaddr)].
Lookup = Callable[..., Sequence[tuple[Any, ...]]]

# Characters of the numeric IPv4 spellings inet_aton accepts (dotted, hex, octal, one decimal number).
_NUMERIC_HOST_RE = re.compile(r"^(0[xX][0-9a-fA-F]*|[0-9]+)(\.(0[xX][0-9a-fA-F]*|[0-9]+)){0,3}$")


class DestinationRefused(InputError):
    """A URL or address this policy does not fetch; the message is the reason, for people."""


def scheme_refusal(url: str) -> str | None:
    """Why `url` may not be fetched for its scheme, or None for http(s)."""
    scheme = urlsplit(url.strip()).scheme.lower() if ":" in url else ""
    if scheme in ALLOWED_SCHEMES:
        return None
    shown = f"{scheme}:" if scheme else "an address without a scheme"
    return f"refused: only http and https addresses are fetched, not {shown}"


def literal_address(host: str) -> IPAddress | None:
    """The address a URL's host names literally (any spelling getaddrinfo accepts), else None for a name."""
    text = host.strip().strip("[]")
    if not text:
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    if _NUMERIC_HOST_RE.match(text):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    return None


def address_category(address: IPAddress) -> str | None:
    """What kind of internal address this is ("loopback", "private", ...), or None for a public one."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
        ("non-public", not address.is_global),
    )
    return next((name for name, applies in checks if applies), None)


def parse_networks(value: str | Iterable[str]) -> tuple[Network, ...]:
    """CIDRs (comma-separated, or a list) as networks; a plain address is its own /32 or /128.

    Raises ValueError naming the first entry that is not a network.
    """
    entries = value.split(",") if isinstance(value, str) else list(value)
    networks = []
    for entry in entries:
        text = entry.strip()
        if not text:
            continue
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            raise ValueError(f"{text[:60]!r} is not a network like 10.1.0.0/16 or 127.0.0.1/32") from None
    return tuple(networks)


@dataclass(frozen=True)
class AddressPolicy:
    """Which destinations may be fetched: public addresses, and internal ones inside `allowed_networks`."""

    allowed_networks: tuple[Network, ...] = ()

    @classmethod
    def allowing(cls, networks: str | Iterable[str]) -> AddressPolicy:
        """A policy that also allows `networks` (CIDRs); ValueError for one that is not a network."""
        return cls(parse_networks(networks))

    def _allowed(self, address: IPAddress) -> bool:
        candidates: list[IPAddress] = [address]
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            candidates.append(address.ipv4_mapped)
        return any(
            candidate.version == network.version and candidate in network
            for candidate in candidates
            for network in self.allowed_networks
        )

    def refused_kind(self, address: IPAddress | str) -> str | None:
        """What makes `address` refused ("a private address"), or None when a connection may go there."""
        ip = address if isinstance(address, ipaddress.IPv4Address | ipaddress.IPv6Address) else _parse(address)
        if ip is None:
            return "not an IP address"
        if self._allowed(ip):
            return None
        category = address_category(ip)
        if category is None:
            return None
        article = "an" if category[0] in "aeiou" else "a"
        mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
        return f"{article} {category} address" + (f" ({mapped} mapped into IPv6)" if mapped else "")

    def address_refusal(self, address: IPAddress | str) -> str | None:
        """Why a connection to `address` is refused, or None when it is allowed."""
        kind = self.refused_kind(address)
        return None if kind is None else f"refused: {address} is {kind}, outside {ALLOWED_NETWORKS_SETTING}"

    def url_refusal(self, url: str) -> str | None:
        """Why `url` is refused before any lookup (its scheme, or a literal internal address), else None.

        A host name passes here: it is judged on what it resolves to, when the connection is made.
        """
        refusal = scheme_refusal(url)
        if refusal:
            return refusal
        try:
            host = urlsplit(url.strip()).hostname or ""
        except ValueError:
            return "refused: not a valid URL"
        if not host:
            return "refused: the address names no host"
        address = literal_address(host)
        return self.address_refusal(address) if address is not None else None

    def check_url(self, url: str) -> None:
        """Raise DestinationRefused when `url_refusal` has a reason."""
        refusal = self.url_refusal(url)
        if refusal:
            raise DestinationRefused(f"{url[:100]}: {refusal}")

    def allowed_addresses(self, host: str, port: int, *, lookup: Lookup = socket.getaddrinfo) -> list[str]:
        """The addresses of `host` a connection may go to, in resolver order.

        Raises DestinationRefused when the host resolves only to refused addresses, and OSError
        (`socket.gaierror`) when it does not resolve.
        """
        literal = literal_address(host)
        if literal is not None:
            refusal = self.address_refusal(literal)
            if refusal:
                raise DestinationRefused(refusal)
            return [str(literal)]
        resolved = _unique(str(entry[4][0]) for entry in lookup(host, port, 0, socket.SOCK_STREAM))
        allowed = [address for address in resolved if self.address_refusal(address) is None]
        if not allowed:
            raise DestinationRefused(self.name_refusal(host, resolved) or f"refused: {host} has no address")
        return allowed

    def name_refusal(self, host: str, addresses: Sequence[str]) -> str | None:
        """Why a name whose every address is in `addresses` is refused (None if one of them is allowed)."""
        kinds = [self.refused_kind(address) for address in addresses]
        if not addresses or any(kind is None for kind in kinds):
            return None
        return f"refused: {host} resolves to {addresses[0]}, {kinds[0]}, outside {ALLOWED_NETWORKS_SETTING}"


def _parse(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))
