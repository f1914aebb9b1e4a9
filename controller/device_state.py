"""Device state that must survive a reboot (today: whether the lane is disabled by command).

Kept in tinydb over the atomic storage: a handful of keys written now and then, read at boot.
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
