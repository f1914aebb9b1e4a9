"""The web console, served by the hub under /console: server-rendered pages (Jinja2, autoescaped),
role-aware, usable on a phone, no script but a meta refresh, no external resources (its one
stylesheet is served from here). Charts are inline SVG drawn on the server (:mod:`charts`).

It signs in with the API's login and keeps the token in an HttpOnly, SameSite=Strict cookie that
the authentication middleware accepts for /console/* only (the API keeps its bearer header);
every form carries a per-session CSRF token. Each page reads through the same scoped queries as
the API: a role sees exactly what its API calls would return.

Chinese first (issue 14). Adding a page:

- every word in a template is a msgid in English: ``{{ _('On site now') }}``, with values as named
  placeholders, ``{{ _('Order %(id)s', id=order.id) }}`` (never ``_()`` around data: gettext output
  is trusted markup); in Python, ``_ = gettext_of(request)`` then ``_('...', name=value)``, and
  ``N_('...')`` marks a msgid kept in a constant (a menu entry, an error message) for the view to
  translate where it is shown (:func:`render.page` translates refusal messages so);
- every code through ``label(kind, code)`` in templates (:func:`labels.label` in Python): a new
  kind of code gets a table in :mod:`labels` (Chinese, English) and its enum in ``ENUMS``, so the
  tests check every member has both words;
- every time through ``value | local(form)`` (forms in :data:`times.PATTERNS`: ``datetime``,
  ``date``, ``time``, ``short``, ``month``...): Beijing time, as the reader's language writes it;
- then ``make i18n-extract`` (messages.pot and each messages.po), write the new ``msgstr`` in
  ``locale/zh_CN/LC_MESSAGES/messages.po`` (en may stay empty: the msgid is the English), and
  ``make catalogs``; ``tests/console/test_catalogs.py`` fails while a Chinese one is missing;
- a browser test asserts the page's Chinese (the default) words.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Final

from aiohttp import web

from hub.api import card_reads, screen_events
from hub.api.params import Param, boolean, choice, day, month, text
from hub.api.route import OPEN, Handler, Open, Route
from hub.api.rows import card_reads as card_read_rows
from hub.auth.permissions import AUTHORITIES, CARD_READS, EVERY_ROLE, READ_PLATFORM, WRITE_PLATFORM
from hub.auth.principal import Role
from hub.console import (
    session,
    views_bulletins,
    views_completion,
    views_devices,
    views_enterprise,
    views_gates,
    views_inspections,
    views_oversight,
    views_platform,
    views_projects,
    views_registration,
    views_reports,
    views_screen,
    views_site,
    views_site_rules,
    views_teams,
)
from hub.devices.devices import BoardState
from hub.workflows.models import OrderStatus
from wire.models import Decision, Direction, Reason

PROJECT = "/console/projects/{project_id}"


async def _home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther("/console/")


def _page(
    method: str,
    path: str,
    handler: Handler,
    roles: Collection[Role] | Open = EVERY_ROLE,
    params: tuple[Param, ...] = (),
) -> Route:
    return Route(method, path, handler, roles, params=params, console=True)


DAY = (day("date"),)
WHO = (text("name"), text("person_key"), text("enterprise"))
"""Who a page is narrowed to: a name, an ID number's blind index (hub.console.views_site), an enterprise."""
DAYS = (day("from"), day("to"))
PAGES = (text("older"), text("newer"))
ACCESS_LOG = (
    *DAYS,
    choice("direction", Direction),
    choice("decision", Decision),
    choice("reason", Reason),
    *WHO,
    *PAGES,
)
ATTENDANCE = (*DAYS, *WHO, *PAGES)
MONTH = (month("month"),)
CARD_READ_POLL = card_read_rows.ROUTES[0].params
"""The registration page's script polls the API's own long poll here, with the session cookie."""
REGISTRATION = (text("read"), text("done"), text("left"))
"""The read shown (its number, or ``latest``), and the registration just made."""
GATES_PAGE = (text("edit"), text("remove"))
"""The gate being changed, or whose removal is being confirmed (the second step before the POST)."""
LANE_PAGE = (text("confirm"), text("command"))
"""The command being confirmed (the second step before the POST), or the one whose answer is awaited."""
BOARD = (choice("status", BoardState), text("q"), text("cursor"))
"""The device board's filter, search and page (hub.devices.devices.board)."""
LANG = (text("lang"),)
"""A download's language when not the account's (hub.console.render.locale_of): ``?lang=en``."""
MONTHLY = (*MONTH, *WHO)
DISTRICT = (text("district"),)
"""The city station's choice of one district (a bureau's own whatever it asks)."""
REPORT = (*MONTH, *DISTRICT)
MONTHLY_FILE = (*MONTHLY, *LANG)
MONTHLY_PATH = PROJECT + "/attendance/monthly"


CONSOLE_STATIC: Final = "/console/static"
"""The stylesheet: served (hub.api.routes) without a session, like the sign-in form."""
CONSOLE_ROUTES: Final = (
    _page("GET", "/console", _home, OPEN),
    _page("GET", "/console/login", session.login_form, OPEN),
    _page("POST", "/console/login", session.login, OPEN),
    _page("POST", "/console/logout", session.logout),
    _page("POST", "/console/language", session.set_language),
    _page("GET", "/console/", views_oversight.overview),
    _page("GET", "/console/devices", views_devices.board, params=BOARD),
    _page("GET", "/console/devices/{device_id}", views_devices.device, params=LANE_PAGE),
    _page("POST", "/console/devices/{device_id}/commands", views_devices.send_command),
    _page("GET", "/console/projects", views_projects.project_list),
    _page("GET", PROJECT, views_projects.project_page, params=DAY),
    _page("POST", PROJECT + "/completion", views_completion.save_completion),
    _page("GET", PROJECT + "/on-site", views_site.on_site, params=WHO),
    _page("POST", PROJECT + "/on-site", views_site.search),
    _page("GET", PROJECT + "/access-log", views_site.access_log, params=ACCESS_LOG),
    _page("POST", PROJECT + "/access-log", views_site.search),
    _page("GET", PROJECT + "/access-log.csv", views_site.access_log_export, params=(*ACCESS_LOG, *LANG)),
    _page("GET", PROJECT + "/access-log.xlsx", views_site.access_log_export, params=(*ACCESS_LOG, *LANG)),
    _page("GET", PROJECT + "/attendance", views_site.attendance, params=ATTENDANCE),
    _page("POST", PROJECT + "/attendance", views_site.search),
    _page("GET", PROJECT + "/attendance.csv", views_site.attendance_export, params=(*ATTENDANCE, *LANG)),
    _page("GET", PROJECT + "/attendance.xlsx", views_site.attendance_export, params=(*ATTENDANCE, *LANG)),
    _page("GET", PROJECT + "/attendance/monthly", views_site.attendance_month, params=MONTHLY),
    _page("POST", PROJECT + "/attendance/monthly", views_site.search),
    _page("GET", MONTHLY_PATH + ".csv", views_site.attendance_month_export, params=MONTHLY_FILE),
    _page("GET", MONTHLY_PATH + ".xlsx", views_site.attendance_month_export, params=MONTHLY_FILE),
    _page("GET", PROJECT + "/worker-attendance.json", views_projects.worker_attendance, params=DAY),
    _page("GET", PROJECT + "/registration", views_registration.registration_page, params=REGISTRATION),
    _page("POST", PROJECT + "/registration/entry", views_registration.register_entry),
    _page("POST", PROJECT + "/registration/exit", views_registration.register_exit),
    _page("GET", PROJECT + "/card-reads.json", card_reads.card_reads, CARD_READS, params=CARD_READ_POLL),
    _page("GET", PROJECT + "/teams", views_teams.teams_page, params=DAY),
    _page("POST", PROJECT + "/teams", views_teams.create_team),
    _page("POST", PROJECT + "/teams/members", views_teams.put_in_team),
    _page("POST", PROJECT + "/teams/{team_id}", views_teams.change_team),
    _page("GET", PROJECT + "/gates", views_gates.gates_page, params=GATES_PAGE),
    _page("POST", PROJECT + "/gates", views_gates.add_gate),
    _page("POST", PROJECT + "/gates/{device_id}", views_gates.change_gate),
    _page("POST", PROJECT + "/gates/{device_id}/removal", views_gates.remove_gate),
    _page("POST", PROJECT + "/gates/{device_id}/token", views_gates.issue_token),
    _page("GET", PROJECT + "/site-rules", views_site_rules.site_rules),
    _page("POST", PROJECT + "/site-rules", views_site_rules.save_site_rules),
    _page("POST", PROJECT + "/site-rules/night-work", views_site_rules.add_night_work),
    _page("POST", PROJECT + "/site-rules/night-work/remove", views_site_rules.remove_night_work),
    _page("GET", PROJECT + "/platform", views_platform.platform_page, READ_PLATFORM),
    _page("POST", PROJECT + "/platform", views_platform.save_platform, WRITE_PLATFORM),
    _page("GET", "/console/statistics", views_oversight.statistics),
    _page("GET", views_enterprise.PATH, views_enterprise.departments),
    _page("GET", "/console/screen", views_screen.screen),
    _page("GET", "/console/screen.json", views_screen.screen_json),
    _page("GET", "/console/screen/events", screen_events.screen_events, AUTHORITIES),
    _page("GET", "/console/inspections", views_inspections.inspection_list),
    _page("POST", "/console/inspections", views_inspections.record_inspection),
    _page("GET", "/console/inspections/{inspection_id}", views_inspections.inspection_page),
    _page("POST", "/console/inspections/{inspection_id}/order", views_inspections.issue_order),
    _page(
        "GET", "/console/inspections/{inspection_id}/photos/{photo_id}", views_inspections.inspection_photo
    ),
    _page(
        "GET",
        "/console/orders",
        views_oversight.order_list,
        params=(choice("status", OrderStatus), boolean("overdue")),
    ),
    _page("POST", "/console/orders", views_oversight.issue_order),
    _page("GET", "/console/orders/{order_id}", views_oversight.order_page),
    _page("POST", "/console/orders/{order_id}/response", views_oversight.respond_order),
    _page("POST", "/console/orders/{order_id}/review", views_oversight.review_order),
    _page("GET", "/console/deductions", views_oversight.deduction_list),
    _page("POST", "/console/deductions", views_oversight.deduct),
    _page("GET", "/console/bulletins", views_bulletins.bulletin_list),
    _page("POST", "/console/bulletins", views_bulletins.issue_bulletin),
    _page("GET", "/console/bulletins/{bulletin_id}.pdf", views_bulletins.bulletin_pdf),
    _page("GET", "/console/bulletins/{bulletin_id}", views_bulletins.bulletin_page),
    _page("GET", "/console/summaries", views_oversight.summaries, params=MONTH),
    _page(
        "GET",
        "/console/summaries/{which:projects|districts}.csv",
        views_oversight.summaries_csv,
        params=(*MONTH, *LANG),
    ),
    _page("GET", "/console/reports", views_reports.report_page, params=REPORT),
    _page("GET", "/console/reports/report.pdf", views_reports.report_pdf, params=(*REPORT, *LANG)),
    _page("GET", "/console/reports/report.xlsx", views_reports.report_xlsx, params=(*REPORT, *LANG)),
    _page("GET", "/console/contacts", views_reports.contacts_page, params=DISTRICT),
    _page("POST", "/console/contacts", views_reports.save_contact),
)
"""The console's rows of the route table (:mod:`hub.api.routes`). Every signed-in role may open
every page: a page shows what the account's role and scope allow, and refuses (an error page, not
the API's JSON) what they do not, so the table's role check never answers for these."""
