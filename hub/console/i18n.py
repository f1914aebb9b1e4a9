"""The console's language: zh-CN first, English second (issue 14).

Which one a request gets is a pure choice (:func:`choose_locale`): the account's own setting
(``accounts.locale``, set by the switch in the page header) wins; else the browser's
``Accept-Language``, of which only Chinese and English count; else Chinese. The words themselves
live in Babel catalogs beside this module (``locale/<lang>/LC_MESSAGES/messages.po``, msgids in
English), compiled to ``.mo`` by ``make`` (never committed): :func:`translations` loads them once.
"""

from __future__ import annotations

import functools
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from babel.support import NullTranslations

LOCALE_DIR: Final = Path(__file__).resolve().parent / "locale"
DOMAIN: Final = "messages"


class Locale(StrEnum):
    """A console language, as ``<html lang>`` and ``accounts.locale`` spell it."""

    ZH_CN = "zh-CN"
    EN = "en"

    @property
    def babel(self) -> str:
        """Babel's and the catalogs' spelling: ``zh_CN``, ``en``."""
        return self.value.replace("-", "_")


DEFAULT: Final = Locale.ZH_CN


def parse_locale(value: str | None) -> Locale | None:
    """``zh``, ``zh-CN``, ``zh_Hans_CN``, ``ZH-cn`` -> zh-CN; ``en``, ``en-GB`` -> en; else None."""
    if not value:
        return None
    primary = value.strip().replace("_", "-").split("-", 1)[0].lower()
    return {"zh": Locale.ZH_CN, "en": Locale.EN}.get(primary)


def _accepted(header: str) -> Locale | None:
    """The supported language the browser weights highest (ties: the earlier); others are skipped."""
    best: tuple[float, int, Locale] | None = None
    for position, item in enumerate(header.split(",")):
        tag, _, params = item.partition(";")
        locale = parse_locale(tag)
        if locale is None:
            continue
        weight = 1.0
        name, _, raw = params.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                weight = float(raw)
            except ValueError:
                continue
        if weight <= 0:
            continue
        if best is None or (weight, -position) > (best[0], -best[1]):
            best = (weight, position, locale)
    return best[2] if best else None


def choose_locale(account_locale: str | None, accept_language: str | None) -> Locale:
    """The account's language if it set one, else the browser's best of zh/en, else zh-CN."""
    return parse_locale(account_locale) or _accepted(accept_language or "") or DEFAULT


@functools.cache
def translations(locale: Locale) -> NullTranslations:
    """The compiled catalog of ``locale``; msgids (English) as they are if it was never compiled."""
    from babel.support import Translations  # here: Babel is ~5 ms of every hub's start, a page's first need

    return Translations.load(str(LOCALE_DIR), [locale.babel], DOMAIN)


def N_(message: str) -> str:
    """Marks a msgid for extraction where it is defined (a table, a constant); translated where
    shown, with the request's translations."""
    return message
