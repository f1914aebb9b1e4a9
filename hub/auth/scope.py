"""What each account may see, as SQL: every query that returns records ANDs one of these in.

Scope lives in the queries, not in the views: a listing, a count, a CSV export and a headcount
all filter through the same clause, so no endpoint can forget it and no page can leak a row that
a later filter would have hidden.

The rules (the notice's hierarchy):
- city: everything; operator: devices only, no personal records at all;
- district: projects in its district, people registered there or working on those projects;
- enterprise: projects it is a party to; the whole record where it is the general contractor or
  the supervisor, only its own people where it is a subcontractor; its own staff anywhere;
- GC and supervision project accounts: their whole project;
- subcontractor project account: its own enterprise's people on its project (and the lanes of it);
- teams (班组): as the project's whole record; a subcontractor's department, or an enterprise where it
  is a subcontractor, its own enterprise's teams only;
- rectification orders: city all; a district bureau those it oversees (the row's ``district``, set
  at issue); an order to a project every account that sees the project except a subcontractor's
  department (the general contractor answers it); an order to an enterprise that enterprise;
- credit deductions: against an enterprise that enterprise, against a person the employer; both
  also the departments of the project named (a subcontractor's only for its own);
- 通报 (bulletins): city all; a district bureau those it issued and those about a project in its
  district; an enterprise those naming it or one of its staff; a project department those naming
  its project;
- the audit log: the city station every line, every other account the lines it made.

A domain object (``Registry``, ``Oversight``, ``Orders``...) is built with a required principal and
picks its clause here; nothing else in the hub decides what an account may read.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, and_, exists, false, or_, select, true

from hub.auth.principal import Principal, Role
from hub.store import schema
from hub.store.schema import audit_log, credit_deductions, rectification_orders

# Aliases, never the tables themselves: a scope clause is ANDed into queries on those very tables
# (assignments, persons, gates...), and SQLAlchemy correlates a subquery's table with the outer
# query's same table, which would turn "this person is assigned here" into "this row equals itself".
assignments = schema.assignments.alias("scope_assignments")
gates = schema.gates.alias("scope_gates")
persons = schema.persons.alias("scope_persons")
project_parties = schema.project_parties.alias("scope_parties")
projects = schema.projects.alias("scope_projects")

_WHOLE_RECORD_PARTY_ROLES = ("general_contractor", "supervision")


def _district_projects(district: str) -> Select[tuple[str]]:
    return select(projects.c.id).where(projects.c.district == district)


def _party_projects(enterprise_id: str, *roles: str) -> Select[tuple[str]]:
    query = select(project_parties.c.project_id).where(project_parties.c.enterprise_id == enterprise_id)
    if roles:
        query = query.where(project_parties.c.role.in_(roles))
    return query


def _assigned_via(
    enterprise_id: str, project_col: ColumnElement[str], person_col: ColumnElement[str | None]
) -> ColumnElement[bool]:
    """The record's person works on the record's project for ``enterprise_id``."""
    return exists().where(
        assignments.c.project_id == project_col,
        assignments.c.person_id == person_col,
        assignments.c.enterprise_id == enterprise_id,
    )


def project_clause(principal: Principal, project_col: ColumnElement[str]) -> ColumnElement[bool]:
    """Projects (and project-level records without a person: lane events, gates, inspections)."""
    role = principal.role
    if role is Role.CITY:
        return true()
    if role is Role.OPERATOR:
        return false()
    if role is Role.DISTRICT:
        return project_col.in_(_district_projects(_need(principal.district)))
    if role is Role.ENTERPRISE:
        return project_col.in_(_party_projects(_need(principal.enterprise_id)))
    return project_col == _need(principal.project_id)


def person_record_clause(
    principal: Principal, project_col: ColumnElement[str], person_col: ColumnElement[str | None]
) -> ColumnElement[bool]:
    """Records about a person on a project (access events, presence, attendance, assignments).

    A record with no person (an unregistered card) belongs to the whole-project roles only.
    """
    role = principal.role
    if role is Role.SUB_PROJECT:
        return and_(
            project_col == _need(principal.project_id),
            _assigned_via(_need(principal.enterprise_id), project_col, person_col),
        )
    if role is Role.ENTERPRISE:
        enterprise_id = _need(principal.enterprise_id)
        return or_(
            project_col.in_(_party_projects(enterprise_id, *_WHOLE_RECORD_PARTY_ROLES)),
            _assigned_via(enterprise_id, project_col, person_col),
        )
    return project_clause(principal, project_col)


def person_clause(principal: Principal, person_id_col: ColumnElement[str]) -> ColumnElement[bool]:
    """Registered persons (the registry's people list and a person's own page)."""
    role = principal.role
    if role is Role.CITY:
        return true()
    if role is Role.OPERATOR:
        return false()
    if role is Role.DISTRICT:
        district = _need(principal.district)
        registered_here = person_id_col.in_(
            select(persons.c.id).where(persons.c.registered_district == district)
        )
        working_here = person_id_col.in_(
            select(assignments.c.person_id).where(assignments.c.project_id.in_(_district_projects(district)))
        )
        return or_(registered_here, working_here)
    if role is Role.ENTERPRISE:
        enterprise_id = _need(principal.enterprise_id)
        staff = person_id_col.in_(select(persons.c.id).where(persons.c.enterprise_id == enterprise_id))
        on_its_projects = person_id_col.in_(
            select(assignments.c.person_id).where(
                or_(
                    assignments.c.enterprise_id == enterprise_id,
                    assignments.c.project_id.in_(_party_projects(enterprise_id, *_WHOLE_RECORD_PARTY_ROLES)),
                )
            )
        )
        return or_(staff, on_its_projects)
    on_project = assignments.c.project_id == _need(principal.project_id)
    if role is Role.SUB_PROJECT:
        on_project = and_(on_project, assignments.c.enterprise_id == _need(principal.enterprise_id))
    return person_id_col.in_(select(assignments.c.person_id).where(on_project))


def team_clause(
    principal: Principal, project_col: ColumnElement[str], enterprise_col: ColumnElement[str]
) -> ColumnElement[bool]:
    """班组 (teams): whoever sees the project's whole record sees its teams; a subcontractor's
    department and an enterprise account where it is a subcontractor only its own enterprise's."""
    role = principal.role
    if role is Role.SUB_PROJECT:
        return and_(
            project_col == _need(principal.project_id), enterprise_col == _need(principal.enterprise_id)
        )
    if role is Role.ENTERPRISE:
        enterprise_id = _need(principal.enterprise_id)
        return or_(
            project_col.in_(_party_projects(enterprise_id, *_WHOLE_RECORD_PARTY_ROLES)),
            and_(enterprise_col == enterprise_id, project_col.in_(_party_projects(enterprise_id))),
        )
    return project_clause(principal, project_col)


def enterprise_clause(principal: Principal, enterprise_id_col: ColumnElement[str]) -> ColumnElement[bool]:
    """Enterprises: public facts (number, name, kind), so every personal-data role may list those
    it deals with; an operator none."""
    role = principal.role
    if role is Role.CITY:
        return true()
    if role is Role.OPERATOR:
        return false()
    if role is Role.DISTRICT:
        return true()  # a bureau registers enterprises from anywhere that work in its district
    if role is Role.ENTERPRISE:
        return enterprise_id_col == _need(principal.enterprise_id)
    return enterprise_id_col.in_(
        select(project_parties.c.enterprise_id).where(
            project_parties.c.project_id == _need(principal.project_id)
        )
    )


def device_clause(principal: Principal, device_col: ColumnElement[str]) -> ColumnElement[bool]:
    """Devices (health, commands): the operator and the city see every lane; others the lanes of
    the projects they see. A device not yet placed at any gate is the operator's and the city's."""
    if principal.role in (Role.CITY, Role.OPERATOR):
        return true()
    return device_col.in_(select(gates.c.device_id).where(project_clause(principal, gates.c.project_id)))


def site_rules_clause(principal: Principal, project_col: ColumnElement[str]) -> ColumnElement[bool]:
    """A project's site rules: what its lanes run, so the operator, who sets up lanes, reads
    every project's (they name no one); everyone else those of the projects they see."""
    if principal.role is Role.OPERATOR:
        return true()
    return project_clause(principal, project_col)


def order_clause(principal: Principal) -> ColumnElement[bool]:
    """Rectification orders (the row's own ``district``, project and enterprise)."""
    o = rectification_orders.c
    role = principal.role
    if role is Role.CITY:
        return true()
    if role is Role.DISTRICT:
        return o.district == principal.district
    if role in (Role.OPERATOR, Role.SUB_PROJECT):
        return false()
    to_project = and_(o.project_id.is_not(None), project_clause(principal, o.project_id))
    if role is Role.ENTERPRISE:
        return or_(o.enterprise_id == principal.enterprise_id, to_project)
    return to_project


def _staff_of(enterprise_id: str | None) -> ColumnElement[bool]:
    d = credit_deductions.c
    return d.person_id.in_(select(persons.c.id).where(persons.c.enterprise_id == enterprise_id))


def deduction_clause(principal: Principal) -> ColumnElement[bool]:
    """Credit deductions, against an enterprise or a person (then their employer's)."""
    d = credit_deductions.c
    role = principal.role
    if role is Role.CITY:
        return true()
    if role is Role.DISTRICT:
        return d.district == principal.district
    if role is Role.OPERATOR:
        return false()
    own = or_(d.enterprise_id == principal.enterprise_id, _staff_of(principal.enterprise_id))
    if role is Role.ENTERPRISE:
        return own
    on_project = and_(d.project_id.is_not(None), project_clause(principal, d.project_id))
    if role is Role.SUB_PROJECT:
        return and_(on_project, own)
    return on_project


def bulletin_clause(
    principal: Principal, bulletin_id: ColumnElement[int], issuer_district: ColumnElement[str | None]
) -> ColumnElement[bool]:
    """通报, by their issuer and the parties they name (``bulletin_parties``)."""
    role = principal.role
    if role is Role.CITY:
        return true()
    if role is Role.OPERATOR:
        return false()
    bp = schema.bulletin_parties.c

    def naming(kind: str, ids: ColumnElement[bool]) -> ColumnElement[bool]:
        return exists().where(bp.bulletin_id == bulletin_id, bp.party_kind == kind, ids)

    if role is Role.DISTRICT:
        district = _need(principal.district)
        return or_(
            issuer_district == district, naming("project", bp.party_id.in_(_district_projects(district)))
        )
    if role is Role.ENTERPRISE:
        enterprise_id = _need(principal.enterprise_id)
        staff = select(persons.c.id).where(persons.c.enterprise_id == enterprise_id)
        return or_(
            naming("enterprise", bp.party_id == enterprise_id), naming("person", bp.party_id.in_(staff))
        )
    return naming("project", bp.party_id == _need(principal.project_id))


def audit_clause(principal: Principal) -> ColumnElement[bool]:
    """The city station reads the whole audit log; every other account the lines it made
    (including failed logins against it)."""
    if principal.role is Role.CITY:
        return true()
    return audit_log.c.account_id == principal.account_id


def district_contact_clause(principal: Principal) -> ColumnElement[bool]:
    """The bureaus' contacts (the notice's annex): the city station every district's, a bureau its
    own district's, no other account any (hub.workflows.contacts lets only those two in)."""
    if principal.role is Role.CITY:
        return true()
    if principal.role is Role.DISTRICT:
        return schema.district_contacts.c.district == _need(principal.district)
    return false()


def _need(value: str | None) -> str:
    if value is None:  # Principal.__post_init__ makes this impossible; kept for the type checker
        raise ValueError("account scope is incomplete")
    return value
