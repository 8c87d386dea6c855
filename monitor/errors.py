"""The exception tree of `monitor`: every error a user can cause is an `InputError` with a one-line message."""


class MonitorError(Exception):
    """Base of Claim Monitor's own errors."""


class InputError(MonitorError, ValueError):
    """Bad input from the user (a term, URL, file or value); the message says which and why."""


class DuplicateError(InputError):
    """The thing to add exists already."""


class NotFoundError(InputError):
    """The thing to change or remove does not exist."""
