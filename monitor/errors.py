"""The exception tree of Claim Monitor: every error the project raises on purpose is a `MonitorError`.

`str(error)` is one line saying what went wrong (and, where it helps, what to do), without secrets; it is
exactly what the CLI prints on stderr before it exits with status 1 (bad input; 2 is click's, for usage),
never a traceback.
Each class lives next to the code that raises it; the whole tree is drawn here, and a test keeps this
drawing true (every exception class of the project is a `MonitorError` and is named below):

    MonitorError
    ├── InputError (also a ValueError)      bad input from the user: a term, URL, file or value
    │   ├── DuplicateError                  the thing to add exists already
    │   ├── NotFoundError                   the thing to change or remove does not exist
    │   │   └── AlertNotFoundError          alerts.errors: no (retryable) alert has that id
    │   ├── AlertStateError                 alerts.errors: the alert cannot do that in its state
    │   ├── BaselineFileError               baseline.loader: an article file or the corpus index is unusable
    │   ├── ClaimsFileError                 baseline.claims_file: a claims file or one of its lines is bad
    │   ├── DestinationRefused              monitor.http.safety: an address or scheme never fetched
    │   └── LexiconError                    monitor.matching.lexicon: a lexicon file has the wrong shape
    ├── ConfigError                         monitor.config: a setting is unusable (names the variable)
    ├── DatabaseError                       monitor.storage.engine: the database cannot be opened or migrated
    ├── CrawlFailedError                    monitor.crawling.launchers: a crawl ran and failed (see its run)
    ├── DestinationRefusedError             spiders.safety: a request refused (also Scrapy's IgnoreRequest)
    ├── ScaleOutError                       monitor.crawling.scaleout: Redis is not configured or reachable
    ├── ServiceError                        monitor.service.run: the service cannot start
    ├── DemoError                           monitor.demo.run: the demo cycle did not complete
    ├── MissingDemoDependency               monitor.demo.sinks: a package the demo needs is not installed
    ├── LoginRequired                       monitor.web.deps: a page write without the token (to the login)
    ├── CsrfRejected                        monitor.web.deps: a form without a valid CSRF token
    └── AlertError                          alerts.errors: the base of every error of `alerts`
        └── DeliveryError                   a channel did not accept a message
            ├── TemporaryDeliveryError      try again later (not before `retry_after`)
            └── PermanentDeliveryError      retrying cannot help

`error_line` is how an error that is not ours (a driver's, a library's) is told in one line too.
"""

from __future__ import annotations


class MonitorError(Exception):
    """Base of Claim Monitor's own errors; `str(error)` is the one line the CLI prints."""


class InputError(MonitorError, ValueError):
    """Bad input from the user (a term, URL, file or value); the message says which and why."""


class DuplicateError(InputError):
    """The thing to add exists already."""


class NotFoundError(InputError):
    """The thing to change or remove does not exist."""


def error_line(error: object, *, with_type: bool = False, limit: int | None = None) -> str:
    """The first line of an error's message, for logs, records and one-line reports.

    `error` is an exception, or what a driver hands over as one (`DBAPIError.orig`). `with_type` puts its
    class name first ("TimeoutError: timed out"); `limit` cuts the message.
    An error with no message is told by its class name alone.
    """
    lines = str(error).strip().splitlines()
    if not lines:
        return type(error).__name__
    first = lines[0][:limit] if limit is not None else lines[0]
    return f"{type(error).__name__}: {first}" if with_type else first
