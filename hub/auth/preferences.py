"""An account's own settings, which the account changes for itself: its console language
(``accounts.locale``, zh-CN | en; NULL: the browser's). Not an audited change of the account's
rights, so no audit line: it changes what the account reads, never what it may do."""

from __future__ import annotations

from sqlalchemy import update

from hub.store import Store
from hub.store.schema import accounts

LOCALES = frozenset({"zh-CN", "en"})


async def set_locale(store: Store, account_id: int, locale: str | None) -> None:
    """The account's console language; None clears it (back to the browser's)."""
    if locale is not None and locale not in LOCALES:
        raise ValueError(f"locale {locale!r}: one of {sorted(LOCALES)}, or None")
    async with store.write("account.locale") as conn:
        await conn.execute(update(accounts).where(accounts.c.id == account_id).values(locale=locale))
