"""What the hub derives from access events as they arrive: who is on site now (``presence``) and
each person's day on each project (``attendance``).

The rules are pure (:mod:`hub.derive.days`); :mod:`hub.derive.tables` keeps the two tables in
step inside the ingest's transaction and rebuilds them from the events for repair.
"""

from hub.derive.tables import Rebuilt, apply, rebuild

__all__ = ["Rebuilt", "apply", "rebuild"]
