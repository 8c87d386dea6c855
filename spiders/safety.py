"""The crawler's side of `monitor.http.safety`: what Scrapy may fetch, checked where it connects.

Three places, because a destination can be named three ways:

- `GuardedResolver` (Scrapy's `TWISTED_DNS_RESOLVER`): Twisted's connections resolve every host through
  the reactor's name resolver, IP literals included, so this is the check on the address actually
  connected to. Refused addresses are dropped from the answer; a host left with none fails to connect and
  the refusal is remembered for the report.
- `SafeDestinationMiddleware.process_request` (first downloader middleware): every request, redirect
  targets and robots.txt included, is refused before anything is sent when its scheme is not http(s) or
  its host is a literal internal address in any spelling; its `process_response` refuses a redirect to
  another scheme (Scrapy's redirect middleware lets that response through as a plain 3xx).
- `RefusedNameMiddleware.process_exception` (next to the downloader, before retries): a connection that
  failed because the resolver refused every address becomes a `DestinationRefusedError` with that reason
  instead of a lookup failure to retry.

Scrapy's `file`, `ftp`, `s3` and `data` download handlers are off as well (`spiders.settings`).
The setting `CRAWL_ALLOWED_NETWORKS` (from `MONITOR_CRAWL_ALLOWED_NETWORKS`) lists the internal networks
allowed on purpose; `CRAWL_NAME_LOOKUP` names the getaddrinfo-like function names are resolved with
(tests point it at a stub so that a public-looking name resolves to a private address).
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import Any, Self
from urllib.parse import urljoin

from scrapy import Request
from scrapy.exceptions import CannotResolveHostError, IgnoreRequest
from scrapy.http import Response
from scrapy.settings import BaseSettings
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import load_object
from twisted.internet._resolver import GAIResolver
from twisted.internet.error import DNSLookupError
from twisted.internet.interfaces import IAddress, IHostnameResolver, IHostResolution, IResolutionReceiver
from zope.interface import implementer

from monitor.errors import MonitorError
from monitor.http.safety import AddressPolicy, scheme_refusal

ALLOWED_NETWORKS_SETTING = "CRAWL_ALLOWED_NETWORKS"
NAME_LOOKUP_SETTING = "CRAWL_NAME_LOOKUP"


class DestinationRefusedError(IgnoreRequest, MonitorError):
    """A request the crawl-safety policy refused; the message is the reason for the crawl report.

    An IgnoreRequest, so Scrapy drops the request and calls its errback."""


def policy_from_settings(settings: BaseSettings) -> AddressPolicy:
    return AddressPolicy.allowing(settings.getlist(ALLOWED_NETWORKS_SETTING))


@implementer(IResolutionReceiver)
class _AllowedAddressesOnly:
    """Passes on the addresses the policy allows; remembers why, when it allowed none."""

    def __init__(self, receiver: Any, host: str, resolver: GuardedResolver) -> None:
        # Any: zope interfaces are not types mypy can check calls against.
        self._receiver = receiver
        self._host = host
        self._resolver = resolver
        self._refused: list[str] = []
        self._passed = 0

    def resolutionBegan(self, resolution: IHostResolution) -> None:
        self._receiver.resolutionBegan(resolution)

    def addressResolved(self, address: IAddress) -> None:
        host = str(getattr(address, "host", ""))
        if self._resolver.policy.address_refusal(host) is None:
            self._passed += 1
            self._receiver.addressResolved(address)
        else:
            self._refused.append(host)

    def resolutionComplete(self) -> None:
        if not self._passed and self._refused:
            self._resolver.refusals[self._host] = self._resolver.policy.name_refusal(self._host, self._refused) or ""
        self._receiver.resolutionComplete()


@implementer(IHostnameResolver)
class GuardedResolver:
    """Resolves host names with getaddrinfo (in the reactor's threads) and hands on only allowed addresses.

    `refusals` maps each host that resolved only to refused addresses to the reason.
    """

    def __init__(self, reactor: Any, policy: AddressPolicy, lookup: Any = socket.getaddrinfo) -> None:
        self.reactor = reactor
        self.policy = policy
        self.refusals: dict[str, str] = {}
        self._resolver = GAIResolver(reactor, getaddrinfo=lookup)

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> Self:
        settings = crawler.settings
        lookup = settings.get(NAME_LOOKUP_SETTING) or socket.getaddrinfo
        return cls(reactor, policy_from_settings(settings), load_object(lookup) if isinstance(lookup, str) else lookup)

    def install_on_reactor(self) -> None:
        self.reactor.installNameResolver(self)

    def resolveHostName(
        self,
        resolutionReceiver: IResolutionReceiver,
        hostName: str,
        portNumber: int = 0,
        addressTypes: Sequence[type[IAddress]] | None = None,
        transportSemantics: str = "TCP",
    ) -> IHostResolution:
        guarded: Any = _AllowedAddressesOnly(resolutionReceiver, hostName, self)
        resolution: IHostResolution = self._resolver.resolveHostName(
            guarded, hostName, portNumber, addressTypes, transportSemantics
        )
        return resolution


class SafeDestinationMiddleware:
    """Refuses requests to other schemes and to literal internal addresses before anything is sent."""

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy

    @classmethod
    def from_crawler(cls, crawler: Any) -> Self:
        return cls(policy_from_settings(crawler.settings))

    def process_request(self, request: Request) -> None:
        refusal = self.policy.url_refusal(request.url)
        if refusal:
            raise DestinationRefusedError(refusal)

    def process_response(self, request: Request, response: Response) -> Response:
        location = response.headers.get(b"Location") if 300 <= response.status < 400 else None
        if location:
            target = urljoin(request.url, location.decode("latin-1").strip())
            refusal = scheme_refusal(target)
            if refusal:
                raise DestinationRefusedError(f"{refusal} (a redirect to {target[:100]})")
        return response


class RefusedNameMiddleware:
    """Turns a failed connection to a host whose every address was refused into that refusal."""

    def process_exception(self, request: Request, exception: Exception) -> None:
        if not isinstance(exception, DNSLookupError | CannotResolveHostError):
            return
        from twisted.internet import reactor  # the installed reactor, once Scrapy has installed it

        resolver = getattr(reactor, "nameResolver", None)
        host = urlparse_cached(request).hostname or ""
        if isinstance(resolver, GuardedResolver) and resolver.refusals.get(host):
            raise DestinationRefusedError(resolver.refusals[host])
