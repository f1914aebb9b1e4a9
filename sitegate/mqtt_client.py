"""What aiomqtt leaves for its callers to do, done once for the lane's and the hub's links."""

from __future__ import annotations

import aiomqtt


def read_lost_connection(client: aiomqtt.Client) -> None:
    """Mark a lost connection's error as read. aiomqtt keeps it in the client's ``_disconnected``
    future, and its ``__aexit__`` returns without reading it when the broker went first: at every
    broker restart each lane's log (and the hub's) got "Future exception was never retrieved ...
    Unexpected disconnection" when the client was collected (each link logs its own warning)."""
    lost = client._disconnected  # aiomqtt reads it the same way itself (client.py)
    if lost.done() and not lost.cancelled():
        lost.exception()
