"""The gates page's forms, as values: what a POSTed "add a gate" or "change a gate" form means as
the registry's :class:`~hub.registry.models.GateIn`, and each refusal beside the field it is
about (pure: no request, no store).

The model is the one judge, as for the API (``both`` is its refusal, Chinese first, and a lane
without a direction or an office reader with one); its messages are written ``中文 / English`` and
:func:`in_language` picks the reader's half. pydantic's own complaints (a name missing, too long)
are the console's words (:data:`hub.console.form_errors.MODEL_PROBLEMS`, as on the other
forms; translated by the caller's gettext). Nothing typed is lost:
the page shows the form's own values again beside the complaints.

No device id is ever typed: a new gate's is minted here from its project and kind (it is what the
lane's certificate and enrolment token carry, shown on the page, never asked for).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final

from pydantic import ValidationError

from hub.console.form_errors import MODEL_PROBLEMS
from hub.console.i18n import Locale
from hub.registry.models import GateIn, GateKind

FIELDS: Final = ("name", "lane", "kind", "direction")
"""The form's fields, which are the model's."""
_NOT_ID: Final = re.compile(r"[^a-z0-9]+")
DEVICE_PREFIX: Final = {GateKind.LANE: "lane", GateKind.OFFICE_READER: "office"}


@dataclass(frozen=True, slots=True)
class Outcome:
    """A form read: the gate to place, or the complaints by form field (``errors``)."""

    gate: GateIn | None
    errors: Mapping[str, str] = field(default_factory=dict)


def in_language(message: str, locale: Locale) -> str:
    """``中文 / English``, the registry models' way, as the reader's half (the whole otherwise)."""
    chinese, slash, english = message.partition(" / ")
    if not slash:
        return message
    return chinese if locale is Locale.ZH_CN else english


def mint_device_id(project_id: str, kind: GateKind, token: Callable[[int], str] = secrets.token_hex) -> str:
    """A new gate's device id: readable (its kind and project) and unique (6 random hex digits),
    within the registry's pattern (lower-case letters, digits, hyphens; at most 63)."""
    project = _NOT_ID.sub("-", project_id.lower()).strip("-")[:40] or "site"
    return f"{DEVICE_PREFIX[kind]}-{project}-{token(3)}"


def read(form: Mapping[str, str], device_id: str, locale: Locale, gettext: Callable[[str], str]) -> Outcome:
    """The form as a gate with ``device_id`` (minted for a new gate, the gate's own for a change)."""
    data: dict[str, object] = {"device_id": device_id}
    for name in FIELDS:
        value = form.get(name, "").strip()
        if value:
            data[name] = value
    try:
        return Outcome(GateIn.model_validate(data))
    except ValidationError as err:
        return Outcome(None, complaints(err, locale, gettext))


def complaints(err: ValidationError, locale: Locale, gettext: Callable[[str], str]) -> dict[str, str]:
    """Each problem beside its field (the first one per field); a problem of no field is ``form``'s."""
    found: dict[str, str] = {}
    for problem in err.errors(include_input=False, include_url=False, include_context=False):
        loc = problem["loc"]
        name = str(loc[0]) if loc and str(loc[0]) in FIELDS else "form"
        kind = problem["type"]
        known = MODEL_PROBLEMS.get(kind)
        text = gettext(known) if known else in_language(problem["msg"], locale)
        found.setdefault(name, text)
    return found


def values_of(form: Mapping[str, str]) -> dict[str, str]:
    """What was typed, to show again."""
    return {name: form.get(name, "") for name in FIELDS}
