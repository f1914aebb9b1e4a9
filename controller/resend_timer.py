"""When a lane sends its unacknowledged events again: a silent hub soon, a slow one rarely.

The journal forgets an event only when the hub's storage ack covers it, so a lane whose events were
lost on the way (a broker that dropped its queue, a hub that died before its commit) must send them
again; it cannot tell lost from late, only how the hub's watermark moves. A hub that has
acknowledged nothing since the run began is silent: it is given the window again every ``after_s``,
as it always was. A hub whose watermark moved since the silence allowed last ran out is alive and
behind (issue 16: a loaded hub minutes behind at 3,000 lanes got 34,405 resends, its backlog again,
which put it further behind): the allowance doubles, up to ``max_s``, instead of a resend. A
watermark that stays where it is for a whole allowance after that is stuck, not slow: the events
after it were lost on the way (the hub that took them died; the other hub on the shared subscription
stores what came after, but the watermark waits for the gap), so they go again. A lost event
therefore waits twice the allowance after the hub's last ack (``2 * after_s`` from a hub that was
keeping up: bench/ingest_failover.py recovers in about 3 s at ``after_s`` 1 s), not the cap because
of acknowledgements from before the loss. A run that starts just after the hub caught up counts an
ack within ``after_s`` before it as the hub moving. The allowance is back to ``after_s`` once the
hub has caught up with what was sent, or when a run of outstanding events starts afresh (a
connection, a restored hub's rewind).

Pure: the caller passes the time (monotonic seconds) and does the sending.
"""

from __future__ import annotations


class ResendTimer:
    """The silence timer of one lane's outstanding run of events (sent, not yet acknowledged)."""

    def __init__(self, after_s: float, max_s: float, now: float) -> None:
        """``max_s`` at or below ``after_s`` means no backing off: a resend every ``after_s``."""
        self.after_s = after_s
        self.max_s = max(max_s, after_s)
        self.patience = after_s
        """The silence allowed now: ``after_s``, doubled at each run-out while the hub is alive."""
        self.ran_out = after_s
        """The silence allowed that ran out at the latest resend (for its log line)."""
        self._since = now
        self._moved_at: float | None = None
        self._checked_at = now - after_s
        """When the allowance last ran out (or ``after_s`` before the run began): the hub is alive if
        it moved since."""

    def start(self, now: float) -> None:
        """Events go out with nothing outstanding before them (or everything after the watermark
        goes out again on a hub's request): the silence counts from now, ``after_s`` allowed."""
        self._since = now
        self._checked_at = now - self.after_s
        self.patience = self.after_s

    def progress(self, now: float, *, caught_up: bool) -> None:
        """The hub's watermark moved at ``now``; ``caught_up``: it covers everything sent."""
        self._moved_at = now
        if caught_up:
            self.start(max(now, self._since))
        else:
            self._since = max(now, self._since)

    def resend_due(self, now: float) -> bool:
        """Asked while events are outstanding: True when they are to be sent again now (the
        silence counts from now on)."""
        if now - self._since <= self.patience:
            return False
        alive = self._moved_at is not None and self._moved_at > self._checked_at
        self._checked_at = now
        if alive and self.patience < self.max_s:
            self.patience = min(self.patience * 2, self.max_s)
            return False
        self.ran_out = self.patience
        self.patience = self.after_s  # silent for the cap (or never answered): silent, as ever
        self._since = now
        return True
