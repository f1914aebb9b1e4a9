"""The new 通报 form -> :class:`hub.workflows.bulletins.BulletinIn`'s data, each problem beside its
field in the console's words and what was typed kept (as :mod:`hub.console.oversight_forms` does
for orders and deductions, whose pickers and words it reuses).

Its recipients are picked by name or number: a project (name or 施工许可证号), an enterprise (name
or 统一社会信用代码), a manager of the picked project (name); at least one. A sanction (no
标准化样板工地 award) is announced with the 通报 when its last day is given: for every recipient,
from the 通报's date, with its reason (the title when none is written).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from hub.console.i18n import N_
from hub.console.oversight_forms import Picking, blank, take, texts
from hub.console.pickers import Candidate, Widget

BULLETIN_FIELDS: Final = (
    "kind",
    "title",
    "body",
    "project",
    "enterprise",
    "leader",
    "sanction_until",
    "sanction_reason",
)
BULLETIN_MODEL_FIELDS: Final = {
    "kind": "kind",
    "title": "title",
    "body": "body",
    "parties": "project",
    "sanction": "sanction_until",
    "reason": "sanction_reason",
    "ends_on": "sanction_until",
}
"""The model's fields -> the form's inputs (a sanction's own fields by their last name)."""
BULLETIN_REFUSALS: Final = {
    "outside_district": ("form", N_("This is outside your district.")),
    "not_a_project_leader": ("leader", N_("Not a manager assigned to this project.")),
    "deadline_in_past": ("sanction_until", N_("The last day of the sanction is before today.")),
    "unknown_enterprise": ("enterprise", N_("No enterprise you may act on matches this.")),
    "unknown_project": ("project", N_("No project you may act on matches this.")),
    "unknown_person": ("leader", N_("No manager of this project matches this.")),
}
NO_RECIPIENT: Final = N_("Pick at least one recipient: a project, an enterprise or a manager.")


def bulletin_data(
    form: Mapping[str, str],
    projects: Sequence[Candidate],
    enterprises: Sequence[Candidate],
    leaders_of: Mapping[str, Sequence[Candidate]],
    gettext: Any,
) -> tuple[dict[str, Any], Picking]:
    """The 通报's data (``BulletinIn``'s fields) and the form as entered, problems beside fields."""
    picking = blank(BULLETIN_FIELDS, form)
    project = take(picking, form, "project", projects, gettext)
    enterprise = take(picking, form, "enterprise", enterprises, gettext)
    leader = None
    if project is not None:
        leader = take(picking, form, "leader", leaders_of.get(project.key, ()), gettext)
    else:
        picking.widgets["leader"] = Widget("leader", None)
        wants_leader = bool(form.get("leader", "").strip() or form.get("leader_pick", "").strip())
        if wants_leader and "project" not in picking.entered.errors:
            picking.entered.errors["project"] = gettext(N_("Pick the project the leader leads."))
    parties = [
        {"kind": kind, "id": candidate.key}
        for kind, candidate in (("project", project), ("enterprise", enterprise), ("person", leader))
        if candidate is not None
    ]
    typed_any = any(form.get(name, "").strip() for name in ("project", "enterprise", "leader"))
    if not parties and picking.ok and not typed_any:
        picking.entered.errors["project"] = gettext(NO_RECIPIENT)
    data: dict[str, Any] = texts(form, ("kind", "title", "body")) | {"parties": parties}
    sanction = texts(form, ("sanction_until", "sanction_reason"))
    if "sanction_until" in sanction:
        reason = sanction.get("sanction_reason") or data.get("title", "")
        data["sanction"] = {"ends_on": sanction["sanction_until"], "reason": reason}
    return data, picking
