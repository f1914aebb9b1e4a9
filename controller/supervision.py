"""systemd supervision: ``READY=1`` once the lane can decide, ``WATCHDOG=1`` only while it is healthy.

The unit runs with ``Type=notify`` and ``WatchdogSec``: if the reader is dead, the journal cannot be
written or the event loop is stuck, the pings stop and systemd restarts the controller (whose
``ExecStopPost`` drives the relays fail-secure). The protocol is one datagram on the socket named
by ``$NOTIFY_SOCKET``; a few lines of stdlib, so no dependency for it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable

log = logging.getLogger(__name__)


class Notifier:
    """Sends sd_notify messages; silently does nothing when not started by systemd."""

    def __init__(self, address: str | None = None) -> None:
        address = address if address is not None else os.environ.get("NOTIFY_SOCKET")
        if address and address.startswith("@"):
            address = "\0" + address[1:]  # abstract namespace
        self.address = address or None
        self.sent: list[str] = []

    def notify(self, message: str) -> bool:
        if self.address is None:
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.sendto(message.encode(), self.address)
        except OSError as err:
            log.warning("sd_notify %r failed: %s", message, err)
            return False
        self.sent.append(message)
        return True


def watchdog_interval(default: float | None = None) -> float | None:
    """Half of systemd's ``WATCHDOG_USEC`` (if it is meant for this process), as systemd advises."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if usec is None or (pid is not None and pid != str(os.getpid())):
        return default
    try:
        return int(usec) / 2e6
    except ValueError:
        return default


async def supervise(
    notifier: Notifier,
    health: Callable[[], list[str]],
    interval: float,
) -> None:
    """Ready as soon as healthy; then a watchdog ping every ``interval`` while ``health()`` is empty.

    ``health`` returns what is wrong (empty when all is well), so an unhealthy lane logs why the
    pings stopped; the loop running this coroutine at all is the event-loop half of the check.
    """
    ready = False
    reported: list[str] = []
    while True:
        problems = health()
        if not problems:
            if not ready:
                ready = notifier.notify("READY=1\nSTATUS=lane ready")
                ready = True
            notifier.notify("WATCHDOG=1")
        elif problems != reported:
            log.error("withholding the watchdog ping: %s", "; ".join(problems))
            notifier.notify("STATUS=" + "; ".join(problems))
        reported = problems
        await asyncio.sleep(interval)
