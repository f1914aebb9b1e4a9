"""Pickers instead of typed ids (issue 14, "forms that help"): what a regulator typed in a form's
enterprise, project or project-leader field, resolved against what the account may act on
(pure: the caller gathers the candidates through the scoped registry).

A field is a ``<select>`` of the candidates when they are few (:data:`SHORT`), else a search
field. Either way the form posts ``<field>`` (what was typed) and ``<field>_pick`` (a choice
picked from the select, or from the choices shown beside the field when the typed text matched
several): a pick is a candidate's own key, never typed by anyone, and one that is not among the
candidates (forged, or out of the account's scope) is "not found" like a name that matches
nothing.

Typed text resolves, in order: an exact number (统一社会信用代码, 施工许可证号; spaces and case
ignored) or the choice's own label; an exact name, when it is the only one; else the candidates
whose name or number contains it are offered as choices (even a single partial match is only
offered, never taken); nothing at all is :data:`NOT_FOUND`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

SHORT: Final = 40
"""Up to this many candidates, the field is a ``<select>`` of them all."""
MOST_CHOICES: Final = 12
"""Choices offered beside a field at most (a few letters can match hundreds of names)."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """Something the account may pick: ``key`` its own id (posted by a pick, never shown to be
    typed), ``name`` how people call it, ``numbers`` the public numbers that name it exactly,
    ``detail`` what tells two of the same name apart (a number, an enterprise)."""

    key: str
    name: str
    numbers: tuple[str, ...] = ()
    detail: str = ""

    @property
    def label(self) -> str:
        return f"{self.name}（{self.detail}）" if self.detail else self.name


@dataclass(frozen=True, slots=True)
class Picked:
    candidate: Candidate


@dataclass(frozen=True, slots=True)
class Choose:
    """Several match: these are shown beside the field, one to pick."""

    choices: tuple[Candidate, ...]


@dataclass(frozen=True, slots=True)
class NotFound:
    """Nothing the account may pick matches (or a pick that is not among the candidates)."""


@dataclass(frozen=True, slots=True)
class Empty:
    """Nothing typed, nothing picked: the caller says whether the field was required."""


Resolution = Picked | Choose | NotFound | Empty
NOT_FOUND: Final = NotFound()
EMPTY: Final = Empty()


def _plain(text: str) -> str:
    """Numbers compare without spaces and case (a code copied from a licence, lower-cased)."""
    return "".join(text.split()).upper()


def resolve(typed: str, picked: str, among: Sequence[Candidate]) -> Resolution:
    """What ``typed`` (or ``picked``) means among ``among``."""
    picked, typed = picked.strip(), typed.strip()
    if picked:
        return next((Picked(c) for c in among if c.key == picked), NOT_FOUND)
    if not typed:
        return EMPTY
    number = _plain(typed)
    exact = [c for c in among if typed == c.label or number in (_plain(n) for n in c.numbers if n)]
    if len(exact) == 1:
        return Picked(exact[0])
    named = exact or [c for c in among if c.name == typed]
    if len(named) == 1:
        return Picked(named[0])
    if not named:
        named = [c for c in among if typed in c.name or any(number in _plain(n) for n in c.numbers if n)]
    if not named:
        return NOT_FOUND
    return Choose(tuple(named[:MOST_CHOICES]))


def resolve_field(form: Mapping[str, str], field: str, among: Sequence[Candidate]) -> Resolution:
    """A form's ``field`` (typed) and ``field_pick`` (picked) resolved among ``among``."""
    return resolve(form.get(field, ""), form.get(f"{field}_pick", ""), among)


@dataclass(frozen=True, slots=True)
class Widget:
    """How a picker field is drawn: every candidate as a ``<select>`` when they are few
    (``options``), else a search field; ``choices`` the matches of an ambiguous name."""

    name: str
    options: tuple[Candidate, ...] | None
    choices: tuple[Candidate, ...] = ()

    @property
    def is_select(self) -> bool:
        return self.options is not None


def widget(name: str, among: Sequence[Candidate], resolution: Resolution | None = None) -> Widget:
    """A field drawn for ``among``, with the choices an ambiguous ``resolution`` left."""
    choices = resolution.choices if isinstance(resolution, Choose) else ()
    return Widget(name, tuple(among) if len(among) <= SHORT else None, choices)
