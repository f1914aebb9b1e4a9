"""Device state that must survive a reboot (today: whether the lane is disabled by command).

The file (``state.json`` in the lane's data directory) is one small JSON object,
``{"state": {"1": {"disabled": true}}}``: one document of a handful of keys, written whole now and
then through :mod:`controller.atomic_storage` (atomic, fsynced, the version it replaces kept as
``.prev``) and read at boot with :mod:`json`. It is laid out as a tinydb table, but tinydb is not
used: there is one document to write, and tinydb's read-modify-write would first read the current
file, so a damaged one would stop the lane from recording the next state at all.

A damaged file falls back to its previous version like the roster; with neither, the lane starts
enabled and reports the fault (a disabled lane that forgets it was disabled is visible at once
in the events; a lane that cannot start is not).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from controller.atomic_storage import AtomicJSONStorage, DamagedFile, read_json

log = logging.getLogger(__name__)

_TABLE = "state"


class DeviceState:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.fault: str | None = None
        self._values: dict[str, Any] = self._load()

    def _load(self) -> dict[str, Any]:
        for candidate in (self.path, self.path.with_name(self.path.name + ".prev")):
            try:
                table = read_json(candidate).get(_TABLE, {})
                document = table.get("1", {}) if isinstance(table, dict) else {}
                if not isinstance(document, dict):
                    raise DamagedFile(candidate, "state document is not an object")
                return dict(document)
            except FileNotFoundError:
                continue
            except DamagedFile as err:
                self.fault = str(err)
                log.error("device state: %s", err)
        return {}

    @property
    def disabled(self) -> bool:
        return bool(self._values.get("disabled", False))

    def set_disabled(self, disabled: bool) -> None:
        self._values["disabled"] = disabled
        AtomicJSONStorage(self.path).write({_TABLE: {"1": dict(self._values)}})
