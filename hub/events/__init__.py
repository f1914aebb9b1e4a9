"""The event record: access events and lane events, stored once and read within scope.

- :mod:`hub.events.journal`: where an event is stored exactly once (the ingest's write, with the
  presence and attendance it implies, in one transaction);
- :class:`~hub.events.event_records.EventRecords`: listings and counts as one account may see them;
- :class:`~hub.events.ingest_state.IngestState`: the ingest's watermarks and dead letters, for
  the hub's own roles;
- :class:`~hub.events.internal.InternalEventReads`: the unscoped path, for internal jobs and tests.
"""
