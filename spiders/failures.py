"""Turning a failed request into a short reason a person can act on, and whether a later run may cure it."""

from __future__ import annotations

from scrapy import Request
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.settings import BaseSettings
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.response import response_status_message
from twisted.internet.error import ConnectError, ConnectionDone, ConnectionLost, DNSLookupError, TimeoutError
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

from spiders.middlewares import GAVE_UP_META
from spiders.safety import DestinationRefusedError

_TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 522, 524})


def describe_failure(failure: Failure, request: Request, settings: BaseSettings) -> tuple[str, bool]:
    """(reason, transient) for a failed request; transient means a later run may well succeed."""
    error = failure.value
    gave_up = request.meta.get(GAVE_UP_META)
    if isinstance(error, HttpError):
        status = error.response.status
        reason = gave_up if gave_up and f"HTTP {status}" in gave_up else f"HTTP {response_status_message(status)}"
        return reason, status in _TRANSIENT_STATUSES
    suffix = f" ({gave_up})" if gave_up else ""
    if isinstance(error, DownloadTimeoutError | TimeoutError):
        timeout = request.meta.get("download_timeout") or settings.getfloat("DOWNLOAD_TIMEOUT")
        return f"timed out after {timeout:g} s{suffix}", True
    if isinstance(error, ResponseDataLossError | ConnectionLost | ConnectionDone | ResponseFailed):
        return f"connection dropped before the whole page arrived{suffix}", True
    if isinstance(error, ResponseNeverReceived):
        return f"connection closed before any response{suffix}", True
    if isinstance(error, DownloadCancelledError):
        limit = request.meta.get("download_maxsize") or settings.getint("DOWNLOAD_MAXSIZE")
        return f"page larger than the {limit / (1024 * 1024):g} MB limit", False
    if isinstance(error, CannotResolveHostError | DNSLookupError):
        return f"cannot resolve host {request.url.split('/')[2]}{suffix}", True
    if isinstance(error, DownloadConnectionRefusedError | ConnectError):
        return f"cannot connect: {error}{suffix}", True
    if isinstance(error, DestinationRefusedError):
        return str(error), False
    if isinstance(error, IgnoreRequest):
        message = str(error)
        if "robots.txt" in message:
            return "disallowed by robots.txt", False
        if "redirection" in message:
            return f"too many redirects (more than {settings.getint('REDIRECT_MAX_TIMES')}; a loop?)", False
        return f"skipped: {message}", False
    return f"{type(error).__name__}: {error}{suffix}", True


def unreachable_host(failure: Failure) -> bool:
    """Whether the failure says the host cannot be resolved or connected to (not a slow or failing page):
    such a host is remembered until its source's next interval, so that it fails at once meanwhile."""
    return isinstance(
        failure.value, CannotResolveHostError | DNSLookupError | DownloadConnectionRefusedError | ConnectError
    )
