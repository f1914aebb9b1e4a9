"""A refused form's errors beside their fields, in the reader's language (issue 14: forms that
help): the registry's refusals (Chinese first, naming the field) and the models' validation
problems, each put under the form's own input name, with whatever the manager typed kept by the
caller (:class:`Entered`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from aiohttp import web
from pydantic import ValidationError

from hub.console.i18n import N_
from hub.console.render import gettext_of
from hub.refusals import Refusal

MODEL_PROBLEMS: Mapping[str, str] = {
    "exit_before_entry": N_("The exit date is before the entry date."),
    "missing": N_("Required."),
    "string_too_short": N_("Required."),
    "string_too_long": N_("Too long."),
    "string_pattern_mismatch": N_("Contains characters that are not allowed."),
    "enum": N_("Pick one of the choices."),
    "literal_error": N_("Pick one of the choices."),
}
"""Pydantic's problem types in the console's words (the rest keep the model's own message)."""


@dataclass
class Entered:
    """What the manager typed or picked, kept when the form comes back with errors."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)


def invalid(request: web.Request, entered: Entered, err: ValidationError, fields: Mapping[str, str]) -> None:
    """Each problem of a model beside its input (``fields``: the model's field -> the form's name)."""
    _ = gettext_of(request)
    for problem in err.errors(include_input=False, include_url=False, include_context=False):
        name = (
            "exit_date"
            if problem["type"] == "exit_before_entry"
            else str(problem["loc"][0] if problem["loc"] else "")
        )
        known = MODEL_PROBLEMS.get(problem["type"])
        message = _(known) if known else problem["msg"].removeprefix("Value error, ")
        entered.errors.setdefault(fields.get(name, "form"), message)


def refused(
    request: web.Request,
    entered: Entered,
    err: Refusal,
    fields: Mapping[str, str],
    older: Mapping[str, tuple[str, str]],
) -> None:
    """A registry refusal beside its input: ``older`` gives the console's own words (and input)
    for the refusals whose message is English only; the rest say Chinese first already."""
    _ = gettext_of(request)
    known = older.get(err.code)
    if known is not None:
        entered.errors[known[0]] = _(known[1])
        return
    named = getattr(err, "field", None) or err.message.partition(":")[0]
    entered.errors[fields.get(named, "form")] = _(err.message)
