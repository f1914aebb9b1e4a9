"""Access events and lane events as one account may see them: listings, pages and counts.

The scope is chosen here, from the principal (:mod:`hub.auth.scope`), never by the caller: an
access event is a record about a person (:func:`~hub.auth.scope.person_record_clause`), a lane
event a record of a project (:func:`~hub.auth.scope.project_clause`). The hub operator, who runs
the machines and reads no one's record, sees none of either.
"""

from __future__ import annotations

from hub.auth.principal import Principal
from hub.auth.scope import person_record_clause, project_clause
from hub.events.queries import EventReads
from hub.store import Store
from hub.store.schema import access_events, lane_events


class EventRecords(EventReads):
    """The event record ``principal`` may read (the methods are :class:`EventReads`'s)."""

    def __init__(self, store: Store, principal: Principal) -> None:
        a = access_events.c
        super().__init__(
            store,
            access_scope=person_record_clause(principal, a.project_id, a.person_id),
            lane_scope=project_clause(principal, lane_events.c.project_id),
        )
