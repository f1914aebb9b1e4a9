"""The registry of the notice: districts, enterprises, persons (registered once, city-wide),
projects with their parties, assignments of persons to projects, gates; ID numbers sealed at rest.

:class:`Registry` writes and reads on behalf of an account (:class:`hub.auth.principal.Principal`)
and tells its subscribers, after each commit, which projects' rosters changed.
"""

from hub.registry.keyfile import data_key_path, default_data_key_path, load_data_key
from hub.registry.records import (
    Assignment,
    District,
    Enterprise,
    Gate,
    Inspection,
    Page,
    Party,
    Person,
    Project,
)
from hub.registry.registry import Registry, RosterListener
from hub.registry.vault import IdVault, VaultError, mask

__all__ = [
    "Assignment",
    "District",
    "Enterprise",
    "Gate",
    "IdVault",
    "Inspection",
    "Page",
    "Party",
    "Person",
    "Project",
    "Registry",
    "RosterListener",
    "VaultError",
    "data_key_path",
    "default_data_key_path",
    "load_data_key",
    "mask",
]
