"""Retention as the law asks (issue 17): access and lane records are kept a configured period after
their project's completion (default three years), then purged; persons with no assignment left
inside a period keep only a pseudonymous row.

- :mod:`hub.retention.policy`: pure: when a project's period ends, which projects are past it;
- :mod:`hub.retention.purge`: the one transaction that purges (whole partitions dropped where every
  row is expired, row deletes otherwise, persons erased), audited;
- :mod:`hub.retention.housekeeping`: the hub's periodic task: the months ahead made
  (:mod:`hub.store.partitions`), then the purge, on the hub's injected clock, counted for /healthz;
- :mod:`hub.retention.completion`: setting a project's completion date (竣工), audited;
- :mod:`hub.retention.settings`: the ``[retention]`` section of the hub's configuration.

Import from the modules, not from this package: hub.config reads only the settings, and every
``sitegate`` command imports hub.config; re-exporting the purge here made each command import
SQLAlchemy's engine and the store first (about 1 s of CPU a command).
"""
