"""aiomqtt's disconnect failing on the way out of a connection, as it does when the link drops just
as its owner is cancelled: the MqttError it raises takes the cancel's place."""

from __future__ import annotations

import aiomqtt
import pytest


def make_disconnects_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every aiomqtt connection entered from now on (``async with`` reads ``__aexit__`` as it
    enters) ends by raising "Disconnected during message iteration" after disconnecting;
    ``monkeypatch.undo()`` ends that for connections entered later."""
    leave = aiomqtt.Client.__aexit__

    async def failing_exit(self: aiomqtt.Client, *exc_info: object) -> None:
        await leave(self, *exc_info)  # type: ignore[arg-type]
        raise aiomqtt.MqttError("Disconnected during message iteration")

    monkeypatch.setattr(aiomqtt.Client, "__aexit__", failing_exit)
