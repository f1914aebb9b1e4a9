"""Exponential backoff with jitter: how long to wait before the next attempt at a connection.

The one implementation, shared by the lane's uplink (:mod:`controller.uplink`) and the hub's broker
link (:mod:`hub.mqtt_link`). It lives here, in the package both may import, because ``wire`` stays
free of I/O policy and the lane never imports the hub. Jitter spreads the reconnects of many lanes
(or several hubs) after a broker restart, so they never come back in the same second.
"""

from __future__ import annotations

import random
from collections.abc import Callable


def backoff_delays(
    rng: random.Random, first_s: float, max_s: float, *, floor_share: float = 0.0
) -> Callable[[int], float]:
    """Attempt ``n`` (from 0) waits within ``ceiling = min(max_s, first_s * 2**n)``: at least
    ``floor_share`` of the ceiling, the rest drawn uniformly from ``rng``.

    ``floor_share`` 0 is full jitter (anywhere in ``[0, ceiling]``: the lanes, many per broker);
    0.5 is equal jitter (``[ceiling/2, ceiling]``: never a tight loop, for the hub)."""

    def delay(attempt: int) -> float:
        ceiling = min(max_s, first_s * 2.0**attempt)
        return ceiling * floor_share + rng.uniform(0, ceiling * (1 - floor_share))

    return delay
