"""Whether storing works: the last store's result and when it was, for ``/healthz``.

A database that answers ``SELECT 1`` can still refuse every write (a full disk, a read-only
replica): the ingest notes each batch's outcome here (:func:`hub.events.journal.store_events`),
and the health check reports it beside the ping.
"""

from __future__ import annotations

from dataclasses import dataclass

from wire.clock import Clock


@dataclass(frozen=True, slots=True)
class LastStore:
    ok: bool
    mono_ns: int
    error: str | None = None


class StoringHealth:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.last: LastStore | None = None

    def stored(self) -> None:
        self.last = LastStore(True, self._clock.mono_ns())

    def failed(self, err: BaseException) -> None:
        """``err``'s class only: a database's message may quote the rows it refused."""
        self.last = LastStore(False, self._clock.mono_ns(), type(err).__name__)

    @property
    def failing(self) -> bool:
        return self.last is not None and not self.last.ok

    def report(self) -> dict[str, object]:
        """``result`` ok, failed or none (nothing stored yet by this process) and ``age_s``."""
        last = self.last
        if last is None:
            return {"result": "none", "age_s": None}
        age = round((self._clock.mono_ns() - last.mono_ns) / 1e9, 1)
        return {
            "result": "ok" if last.ok else "failed",
            "age_s": age,
            **({"error": last.error} if last.error else {}),
        }
