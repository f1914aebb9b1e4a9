"""One login per role, for the demo to print beside the console's URL (``sitegate demo --serve``).

Given the accounts a seeded world made (username -> role, e.g. ``SeedSummary.accounts``), picks
the first username of each role in a stable order, so the printout is the same on every run.
"""

from __future__ import annotations

from collections.abc import Mapping

from hub.auth.principal import Role


def one_per_role(accounts: Mapping[str, str]) -> dict[str, str]:
    """role -> username, roles in :class:`Role`'s order, the alphabetically first account of each."""
    chosen: dict[str, str] = {}
    for role in Role:
        names = sorted(name for name, account_role in accounts.items() if account_role == role.value)
        if names:
            chosen[role.value] = names[0]
    return chosen


def printout(base_url: str, accounts: Mapping[str, str], password_hint: str) -> str:
    lines = [f"Console: {base_url}/console/ — a login for each role ({password_hint}):"]
    lines += [f"  {role:<20} {username}" for role, username in one_per_role(accounts).items()]
    return "\n".join(lines)
