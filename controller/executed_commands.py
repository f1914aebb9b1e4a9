"""The hub's commands this lane has executed, with their results, kept across restarts.

The broker redelivers a QoS 1 command the lane had not acknowledged when it stopped, and the hub
resends one it got no answer to: either may reach a lane that has restarted since it ran it. Kept
only in memory, the ids were gone with the process, and a redelivered ``remote_open`` released the
arm a second time. So each result is written, before it is sent, to ``commands.json`` in the lane's
data directory: a tinydb database (a table ``executed`` of documents
``{"command_id", "expires_at", "result"}``, the result as its wire JSON) over
:class:`controller.atomic_storage.AtomicJSONStorage`, so every write is atomic and fsynced and the
version it replaces is kept as ``.prev``.

Bounded: a result is kept while its command could still be executed (until ``expires_at`` on the
lane's clock; a copy arriving later is refused as expired anyway) and at most
:data:`REMEMBERED_COMMANDS` of them, the newest. Commands are rare (an operator's click), so
rewriting the whole file for each one costs nothing that matters.

A damaged file falls back to its previous version, then to an empty one, and the fault is logged:
the lane must keep answering commands. What the file cannot hold (a write that fails) is still
remembered in memory until the lane stops.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from datetime import datetime
from pathlib import Path
from typing import Final

from tinydb import Query, TinyDB

from controller.atomic_storage import AtomicJSONStorage, DamagedFile, read_json, write_atomically
from wire.codec import decode, encode
from wire.commands import CommandResult
from wire.message_errors import WireError
from wire.topics import Channel

log = logging.getLogger(__name__)

REMEMBERED_COMMANDS: Final = 1000
"""At most this many results are kept (the newest), however far off their commands expire."""

_TABLE: Final = "executed"


class ExecutedCommands:
    """``result_of`` a command id executed before (in this process or an earlier one), ``remember``
    one just executed."""

    def __init__(self, path: Path, *, keep: int = REMEMBERED_COMMANDS) -> None:
        self.path = path
        self.keep = keep
        self.fault: str | None = None
        self._results: OrderedDict[str, tuple[datetime, CommandResult]] = OrderedDict()
        self._db = TinyDB(path, storage=AtomicJSONStorage)
        self._load()

    def _load(self) -> None:
        try:
            documents = self._db.table(_TABLE).all()
        except DamagedFile as err:
            self._fault(str(err))
            self._recover()
            documents = self._db.table(_TABLE).all()
        for document in documents:
            try:
                result = decode(Channel.COMMAND_RESULT, document["result"].encode())
                expires_at = datetime.fromisoformat(document["expires_at"])
            except (KeyError, AttributeError, ValueError, WireError) as err:
                self._fault(f"{self.path}: a document is not a command result ({type(err).__name__})")
                continue
            assert isinstance(result, CommandResult)
            self._results[result.command_id] = (expires_at, result)

    def _recover(self) -> None:
        """Start again from the previous version (or empty), keeping that version as ``.prev``."""
        previous = self.path.with_name(self.path.name + ".prev")
        try:
            read_json(previous)
            data = previous.read_bytes()
        except (FileNotFoundError, DamagedFile):
            data = b"{}"
        self.path.unlink(missing_ok=True)  # not kept as .prev: the previous version is better
        write_atomically(self.path, data)

    def _fault(self, why: str) -> None:
        self.fault = why
        log.error("executed commands: %s", why)

    def result_of(self, command_id: str) -> CommandResult | None:
        kept = self._results.get(command_id)
        return None if kept is None else kept[1]

    def remember(self, result: CommandResult, *, expires_at: datetime, now: datetime) -> None:
        """Keep ``result`` (of a command valid until ``expires_at``), durably, before it is sent;
        forget what expired before ``now`` and what is beyond the newest :attr:`keep`."""
        self._results[result.command_id] = (expires_at, result)
        forgotten = [command_id for command_id, (until, _) in self._results.items() if until < now]
        for command_id in forgotten:
            del self._results[command_id]
        while len(self._results) > self.keep:
            forgotten.append(self._results.popitem(last=False)[0])
        table = self._db.table(_TABLE)
        document = {"command_id": result.command_id, "expires_at": expires_at.isoformat()}
        try:
            # Each write leaves a whole file: the new result first, then (rarely) the forgetting.
            table.insert({**document, "result": encode(result).decode()})
            if forgotten:
                table.remove(Query().command_id.one_of(forgotten))
        except (DamagedFile, OSError) as err:
            self._fault(f"could not keep the result of command {result.command_id}: {err}")

    def close(self) -> None:
        self._db.close()
