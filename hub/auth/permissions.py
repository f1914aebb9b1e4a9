"""Who may call what: every role set of the hub, in one place.

The route table (:mod:`hub.api.routes`) names one of these sets on each row, and the API answers
403 with it before a handler runs; the registry and the workflows check the same sets again with
the facts they read in the write's transaction (:mod:`hub.registry.permissions`), so a caller from
Python is held to the same rules as one over HTTP.

What an account may *see* within an endpoint it may call is not here: that is SQL, in
:mod:`hub.auth.scope`. The tuples keep :class:`Role`'s order, which the 403 message lists.
"""

from __future__ import annotations

from typing import Final

from hub.auth.principal import FULL_ID_ROLES, Role

EVERY_ROLE: Final = tuple(Role)
PERSONAL_DATA_ROLES: Final = tuple(role for role in Role if role is not Role.OPERATOR)
"""Everyone but the hub operator, who runs the machines and reads no one's record."""
HUB_ROLES: Final = (Role.OPERATOR, Role.CITY)
"""The hub's own state: ingest counters, sequences, dead letters."""
AUTHORITIES: Final = (Role.CITY, Role.DISTRICT)
"""The city station and the district bureaus: registration statistics, district summaries."""
COMMAND_ROLES: Final = (Role.OPERATOR, Role.CITY, Role.DISTRICT, Role.GC_PROJECT)
"""Who may act on a lane (each on the lanes in its scope)."""
ENROLMENT_TOKEN_ROLES: Final = (Role.GC_PROJECT,)
"""A one-time enrolment token for a gate: the general contractor's project department."""
REVOKE_ROLES: Final = (Role.OPERATOR, Role.CITY, Role.GC_PROJECT)
"""Revoking a lane's certificate."""

# -- the registry ------------------------------------------------------------------------------

READERS: Final = frozenset(Role) - {Role.OPERATOR}
"""Every role that sees personal data reads the registry, the orders and the deductions (each
through its scope)."""
CREATE_DISTRICT: Final = frozenset({Role.CITY})
CREATE_ENTERPRISE: Final = frozenset({Role.CITY, Role.DISTRICT})
REGISTER_PERSON: Final = frozenset({Role.CITY, Role.DISTRICT, Role.ENTERPRISE})
"""Workers (作业人员备案) by a bureau or the city; managers also by their own enterprise."""
WATCHLIST: Final = frozenset({Role.CITY, Role.DISTRICT})
CREATE_PROJECT: Final = frozenset({Role.CITY, Role.DISTRICT})
REGISTER_PROJECT: Final = frozenset({Role.ENTERPRISE})
"""报备: the general contractor, logged in with its enterprise number."""
ADD_PARTY: Final = frozenset({Role.GC_PROJECT})
ASSIGN: Final = frozenset({Role.GC_PROJECT, Role.SUB_PROJECT, Role.ENTERPRISE})
LOOKUP_PERSON: Final = REGISTER_PERSON | ASSIGN
"""Only those who register or assign people find an already registered one by ID number (by
need: throttled per account and audited, hub.api.registry and hub.registry.people)."""
CARD_READS: Final = (Role.GC_PROJECT, Role.SUB_PROJECT)
"""The office readers' card reads (进场/离场登记 with the card, whole ID numbers): the project
departments that register people on their project, each on its own (:mod:`hub.api.card_reads`)."""
TEAMS: Final = frozenset({Role.GC_PROJECT, Role.SUB_PROJECT})
"""班组: the GC's project department for every party enterprise of its project, a subcontractor's
department for its own (make, rename, remove a team, set its leader, put an assignment in it)."""
PLACE_GATE: Final = frozenset({Role.CITY, Role.DISTRICT, Role.GC_PROJECT, Role.OPERATOR})
READ_GATES: Final = frozenset(Role)
"""Gates are devices: the operator sees them too (but not the people behind them)."""
FILE_INSPECTION: Final = frozenset({Role.SUPERVISION_PROJECT})
READ_INSPECTIONS: Final = frozenset({Role.CITY, Role.DISTRICT, Role.GC_PROJECT, Role.SUPERVISION_PROJECT})
WRITE_SITE_RULES: Final = frozenset({Role.GC_PROJECT, Role.OPERATOR})
"""A project's site rules (working hours, anti-passback, night work): its GC project department,
or the hub's operator (who sets up a site's lanes); each write is signed to the lanes with the roster."""
READ_SITE_RULES: Final = WRITE_SITE_RULES | {Role.CITY, Role.DISTRICT, Role.SUPERVISION_PROJECT}
"""The writers, supervision and the authorities (each through hub.auth.scope.site_rules_clause)."""

# -- the workflows -----------------------------------------------------------------------------

ORDER_ISSUERS: Final = frozenset({Role.CITY, Role.DISTRICT})
"""Rectification orders (责令限期整改): issued, and their responses reviewed, by the authorities."""
ORDER_RESPONDERS: Final = frozenset({Role.ENTERPRISE, Role.GC_PROJECT})
DEDUCTORS: Final = frozenset({Role.CITY, Role.DISTRICT})
"""Credit deductions (信用扣分)."""
BULLETIN_ISSUERS: Final = frozenset({Role.CITY, Role.DISTRICT})
"""通报 (commendations and criticisms) and the eligibility sanctions (no 标准化样板工地 award)."""
UPLOADERS: Final = FULL_ID_ROLES | {Role.GC_PROJECT}
"""The national platform's attendance upload (whole ID numbers): the authorities, or the
project's own general contractor department."""
WRITE_PLATFORM: Final = frozenset({Role.CITY, Role.GC_PROJECT})
"""A project's settings for the national or provincial worker platform (hub.platform, issue 19):
its GC project department, or the city station."""
READ_PLATFORM: Final = WRITE_PLATFORM | {Role.DISTRICT}
"""The settings (never the appsecret) and the upload's status: the writers, and the project's bureau."""
WRITE_COMPLETION: Final = frozenset({Role.CITY, Role.DISTRICT})
"""A project's completion date (竣工, from which its records' retention runs: hub.retention): the
city station, or the bureau of the project's district, who accept the works."""
READ_COMPLETION: Final = WRITE_COMPLETION | {Role.GC_PROJECT, Role.SUPERVISION_PROJECT}
"""The date and how long the records are kept: the writers, and the project departments the notice
gives the project's record to (the GC's, which keeps it, and supervision, which checks it)."""
