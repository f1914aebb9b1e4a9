"""The hub's errors, kept apart by whose fault they are.

A client's bad request (:class:`InvalidQuery` and its kinds) becomes a 400 that names the
parameter; a database failure (:class:`StoreError`) says whether retrying can help, so the ingest
can tell a broken link (leave the events unacknowledged: the controller resends them) from a row
the database will never take (dead-letter it, keep the rest of the batch).
"""

from __future__ import annotations


class HubError(Exception):
    """Base of every error the hub raises on purpose."""


class ConfigError(HubError):
    """A configuration file or flag that cannot be turned into a :class:`~hub.config.HubConfig`."""


class InvalidQuery(HubError, ValueError):
    """A query the caller got wrong; ``parameter`` names the part to fix."""

    def __init__(self, parameter: str, message: str) -> None:
        self.parameter = parameter
        self.message = message
        super().__init__(f"{parameter}: {message}")


class InvalidCursor(InvalidQuery):
    """A pagination cursor this hub did not issue, or one that was altered on the way."""

    def __init__(self, message: str) -> None:
        super().__init__("cursor", message)


class StoreError(HubError):
    """The database refused or failed an operation.

    ``transient`` is true for lost connections, locks and timeouts (the same call may succeed
    later) and false when the data itself was refused (retrying the same rows cannot help).
    """

    def __init__(self, operation: str, message: str, *, transient: bool) -> None:
        self.operation = operation
        self.transient = transient
        super().__init__(f"{operation}: {message}")


class BrokerUnavailable(HubError):
    """The hub has no working link to the broker right now: nothing can be sent down."""


class NotFound(HubError):
    """A resource the request names does not exist (an unknown device, command, ...)."""

    def __init__(self, what: str) -> None:
        self.what = what
        super().__init__(what)
