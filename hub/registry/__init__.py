"""The registry of the notice: districts, enterprises, persons (registered once, city-wide),
projects with their parties, assignments of persons to projects, gates; ID numbers sealed at rest.

:class:`Registry` writes and reads on behalf of the account (:class:`hub.auth.principal.Principal`)
it is built with; :class:`RegistryDesk`, the app's, hands each account its registry and tells
its subscribers, after each commit, which projects' rosters changed. :class:`InternalRegistryReads`
is the unscoped path for the hub's own jobs (the roster compiler), never for a handler.
"""

from hub.page import Page
from hub.registry.internal import InternalRegistryReads
from hub.registry.keyfile import data_key_path, default_data_key_path, load_data_key
from hub.registry.records import (
    Assignment,
    District,
    Enterprise,
    GateRecord,
    Inspection,
    Party,
    Person,
    Project,
)
from hub.registry.registry import Registry, RegistryDesk
from hub.registry.roster_changes import RosterListener
from hub.registry.vault import IdVault, VaultError, mask

__all__ = [
    "Assignment",
    "District",
    "Enterprise",
    "GateRecord",
    "IdVault",
    "Inspection",
    "InternalRegistryReads",
    "Page",
    "Party",
    "Person",
    "Project",
    "Registry",
    "RegistryDesk",
    "RosterListener",
    "VaultError",
    "data_key_path",
    "default_data_key_path",
    "load_data_key",
    "mask",
]
