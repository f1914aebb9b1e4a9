"""The registry of the notice: who may be on which site, written and read on behalf of one account.

:class:`Registry` is built with the store and the account it acts for (required: there is no
"everything" registry) and is one face over the parts that do the work: reads
(:mod:`hub.registry.reads`), organisations (:mod:`hub.registry.organisations`), people and their
assignments (:mod:`hub.registry.people`), projects, parties, gates and inspections
(:mod:`hub.registry.sites`), each project's site rules (:mod:`hub.site_rules.rules`), and its
teams, 班组 (:mod:`hub.registry.teams`, :mod:`hub.registry.team_reads`).

Every write is one transaction (:meth:`Store.write`) that also writes its audit line, so a write
that fails leaves nothing behind, neither half a registration nor an account without its party.
Who may write is checked twice (:mod:`hub.registry.permissions`): by role before the transaction,
and against the rows the transaction reads. Every read ANDs the account's scope
(:mod:`hub.auth.scope`) into its SQL. A write that changes what a site's lanes must know tells
:class:`~hub.registry.roster_changes.RosterChanges` after it commits.

:class:`RegistryDesk` is what the app holds: the store, the vault, the clock and the roster
listeners, from which each request gets the registry of its account (:meth:`RegistryDesk.acting_for`).
"""

from __future__ import annotations

from collections.abc import Callable

from hub.auth.principal import Principal
from hub.registry.internal import InternalRegistryReads
from hub.registry.organisations import OrganisationWrites
from hub.registry.people import PersonWrites
from hub.registry.reads import RegistryReads
from hub.registry.roster_changes import RosterChanges, RosterListener
from hub.registry.sites import ProjectWrites
from hub.registry.team_reads import TeamReads
from hub.registry.teams import TeamWrites
from hub.registry.vault import IdVault
from hub.site_rules.rules import SiteRuleWrites
from hub.store import Store
from wire.clock import Clock, SystemClock


class Registry(
    RegistryReads, OrganisationWrites, PersonWrites, ProjectWrites, SiteRuleWrites, TeamReads, TeamWrites
):
    """The registry as one account reads and writes it (see the module's docstring)."""


class RegistryDesk:
    def __init__(
        self, store: Store, vault: IdVault, *, clock: Clock | None = None, fast_hash: bool = False
    ) -> None:
        """``clock``: what every write is stamped with (the system's when not given);
        ``fast_hash``: cheap argon2 parameters for the accounts it creates (tests, demo seeds)."""
        self._store = store
        self._vault = vault
        self._clock = clock or SystemClock()
        self._fast_hash = fast_hash
        self._roster_changes = RosterChanges()

    def acting_for(self, principal: Principal) -> Registry:
        """The registry as ``principal`` reads and writes it."""
        return Registry(
            self._store,
            principal,
            vault=self._vault,
            roster_changes=self._roster_changes,
            clock=self._clock,
            fast_hash=self._fast_hash,
        )

    def subscribe(self, listener: RosterListener) -> Callable[[], None]:
        """Call ``listener`` after each committed roster change; returns the unsubscribe."""
        return self._roster_changes.subscribe(listener)

    async def account_principal(self, username: str) -> Principal:
        """The Principal of an account the registry made, for tools that act on its behalf (the
        demo's seed, scripts): what a login as ``username`` would produce, without the password."""
        return await InternalRegistryReads(self._store).account_principal(username)
