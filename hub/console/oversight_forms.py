"""The regulators' order and deduction forms as the workflows' models' data (issue 14: no internal
id is typed): each picker field resolved among the account's candidates (:mod:`hub.console.pickers`),
what was typed kept, and each problem beside its field in the reader's language (pure: the
candidates come from :mod:`hub.console.oversight_targets`, the gettext from the request).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from hub.console.form_errors import Entered
from hub.console.i18n import N_
from hub.console.pickers import Candidate, Choose, NotFound, Picked, Widget, resolve_field, widget

Gettext = Callable[[str], str]

ORDER_FIELDS: Final = ("project", "enterprise", "subject", "requirements", "deadline")
DEDUCTION_FIELDS: Final = ("enterprise", "leader", "project", "points", "reason", "order")
INSPECTION_FIELDS: Final = ("inspected_on", "findings")
ANSWER_FIELDS: Final = ("response", "note", "new_deadline")
"""An order's response (the recipient's) and review (the issuer's): one of them on its page."""
MODEL_FIELDS: Final = {
    "project_id": "project",
    "enterprise_id": "enterprise",
    "person_id": "leader",
    "order_id": "order",
    "subject": "subject",
    "requirements": "requirements",
    "deadline": "deadline",
    "points": "points",
    "reason": "reason",
    "inspected_on": "inspected_on",
    "findings": "findings",
    "response": "response",
    "note": "note",
    "new_deadline": "new_deadline",
}
"""The models' fields -> the forms' inputs."""
NOT_FOUND: Final = {
    "enterprise": N_("No enterprise you may act on matches this."),
    "project": N_("No project you may act on matches this."),
    "leader": N_("No manager of this project matches this."),
}
SEVERAL: Final = N_("Several match: pick one below.")
OLDER_REFUSALS: Final = {
    "deadline_in_past": ("deadline", N_("The deadline is before today.")),
    "order_not_open": ("form", N_("This order is not open: it has been answered or closed already.")),
    "order_not_responded": ("form", N_("This order has no response to review.")),
    "outside_district": ("form", N_("This is outside your district.")),
    "not_a_project_leader": ("leader", N_("Not a manager assigned to this project.")),
    "order_target_mismatch": ("order", N_("The order is to someone else than this deduction.")),
    "unknown_order": ("order", N_("No such order.")),
    "unknown_enterprise": ("enterprise", NOT_FOUND["enterprise"]),
    "unknown_project": ("project", NOT_FOUND["project"]),
    "unknown_person": ("leader", NOT_FOUND["leader"]),
}
"""The workflows' refusals (English only) in the console's words, beside their field."""
REVIEW_REFUSALS: Final = {
    **OLDER_REFUSALS,
    "deadline_in_past": ("new_deadline", N_("The deadline is before today.")),
}
"""A review's deadline is the new one it sends the order back with."""


@dataclass
class Picking:
    """A form on its way to a model: what was entered (with errors) and how each picker is drawn."""

    entered: Entered
    widgets: dict[str, Widget] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.entered.errors


def blank(fields: Sequence[str], form: Mapping[str, str] | None = None) -> Picking:
    """A form's fields as typed (nothing typed yet, for a GET)."""
    form = form or {}
    values = {name: form.get(name, "") for name in fields}
    return Picking(Entered(values=values))


def take(
    picking: Picking, form: Mapping[str, str], name: str, among: Sequence[Candidate], gettext: Gettext
) -> Candidate | None:
    """``name`` resolved among ``among``; its problem (none found, several) beside it."""
    resolution = resolve_field(form, name, among)
    drawn = widget(name, among, resolution)
    picking.widgets[name] = drawn if name != "leader" else Widget(name, None, drawn.choices)
    if isinstance(resolution, Picked):
        picking.entered.values[name] = resolution.candidate.label
        picking.entered.values[f"{name}_pick"] = resolution.candidate.key
        return resolution.candidate
    if isinstance(resolution, Choose):
        picking.entered.errors[name] = gettext(SEVERAL)
    elif isinstance(resolution, NotFound):
        picking.entered.errors[name] = gettext(NOT_FOUND[name])
    return None


def texts(form: Mapping[str, str], names: Sequence[str]) -> dict[str, str]:
    return {name: form[name].strip() for name in names if form.get(name, "").strip()}


def order_data(
    form: Mapping[str, str],
    projects: Sequence[Candidate],
    enterprises: Sequence[Candidate],
    gettext: Gettext,
) -> tuple[dict[str, str], Picking]:
    """A rectification order's data (``OrderIn``'s fields): to a project *or* an enterprise."""
    picking = blank(ORDER_FIELDS, form)
    project = take(picking, form, "project", projects, gettext)
    enterprise = take(picking, form, "enterprise", enterprises, gettext)
    both = N_("To a project or to an enterprise, not both.")
    neither = N_("Pick the project or the enterprise the order is to.")
    _exactly_one(picking, {"project": bool(project), "enterprise": bool(enterprise)}, both, neither, gettext)
    data = texts(form, ("subject", "requirements", "deadline"))
    return _keyed(data, {"project_id": project, "enterprise_id": enterprise}), picking


def deduction_data(
    form: Mapping[str, str],
    projects: Sequence[Candidate],
    enterprises: Sequence[Candidate],
    leaders_of: Mapping[str, Sequence[Candidate]],
    gettext: Gettext,
) -> tuple[dict[str, str], Picking]:
    """A credit deduction's data (``DeductionIn``'s fields): from an enterprise, or from a
    project leader of the picked project (``leaders_of``: the project's key -> its managers)."""
    picking = blank(DEDUCTION_FIELDS, form)
    enterprise = take(picking, form, "enterprise", enterprises, gettext)
    project = take(picking, form, "project", projects, gettext)
    wants_leader = bool(form.get("leader", "").strip() or form.get("leader_pick", "").strip())
    leader = None
    if project is not None:
        leader = take(picking, form, "leader", leaders_of.get(project.key, ()), gettext)
    else:
        picking.widgets["leader"] = Widget("leader", None)
        if wants_leader and "project" not in picking.entered.errors:
            picking.entered.errors["project"] = gettext(N_("Pick the project the leader leads."))
    both = N_("From an enterprise or from a project leader, not both.")
    neither = N_("Pick the enterprise, or a project leader below.")
    chosen = {"enterprise": bool(enterprise), "leader": bool(leader) or wants_leader}
    _exactly_one(picking, chosen, both, neither, gettext)
    data = texts(form, ("points", "reason", "order"))
    if "order" in data:
        data["order_id"] = data.pop("order")
    return _keyed(data, {"enterprise_id": enterprise, "person_id": leader, "project_id": project}), picking


def _exactly_one(
    picking: Picking, chosen: Mapping[str, bool], both: str, neither: str, gettext: Gettext
) -> None:
    """The models' "exactly one recipient" rule beside the fields: ``both`` beside the second of
    ``chosen``, ``neither`` beside the first (unless a picker has said what is wrong already)."""
    first, second = chosen
    if all(chosen.values()):
        picking.entered.errors[second] = gettext(both)
    elif picking.ok and not any(chosen.values()):
        picking.entered.errors[first] = gettext(neither)


def _keyed(data: dict[str, str], picked: Mapping[str, Candidate | None]) -> dict[str, str]:
    """``data`` with the picked candidates' keys under the model's field names."""
    return data | {name: candidate.key for name, candidate in picked.items() if candidate is not None}


def review_data(form: Mapping[str, str], gettext: Gettext) -> tuple[dict[str, str], Picking]:
    """An issuer's review (``ReviewIn``'s fields): the verdict is the button pressed; a response
    sent back needs a note, and only one sent back takes a new deadline (the model's rules,
    said beside their fields before the model says them in English)."""
    picking = blank(ANSWER_FIELDS, form)
    accept = form.get("verdict") == "accept"
    data = {"accept": "true" if accept else "false"} | texts(form, ("note", "new_deadline"))
    if not accept and "note" not in data:
        picking.entered.errors["note"] = gettext(
            N_("Sending a response back needs a note saying what is still wrong.")
        )
    if accept and "new_deadline" in data:
        picking.entered.errors["new_deadline"] = gettext(N_("Only an order sent back takes a new deadline."))
    return data, picking
