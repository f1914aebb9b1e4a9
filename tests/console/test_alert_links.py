"""hub.console.alert_links: an alert links only to pages its reader may open (pure)."""

from __future__ import annotations

import pytest

from hub.auth.principal import Principal
from hub.console.alert_links import alert_links
from hub.workflows.records import Alert
from tests.hub.oversight import world as w

OFFLINE = Alert("gate_offline", "proj-a", None, "lane-a-out", "silent", {"gate": "东门出", "lane": "A1"})
HIT = Alert("watchlist_hit", "proj-a", None, "per-w1", "hit", {"device_id": "lane-a-in", "lane": "A1"})
OVERDUE = Alert("order_overdue", "proj-a", None, "order:7", "late", {"order_id": 7})


def hrefs(alert: Alert, reader: Principal | None) -> list[str]:
    return [link.href for link in alert_links(alert, reader)]


def test_the_operator_gets_the_lane_never_the_project() -> None:
    assert hrefs(OFFLINE, w.OPERATOR) == ["/console/devices/lane-a-out"]


@pytest.mark.parametrize("reader", [w.CITY, w.DISTRICT_XIHU, w.GC_A, w.SUB_A, w.ENTERPRISE_SUB1], ids=str)
def test_an_account_that_sees_projects_gets_the_project_then_the_lane(reader: Principal) -> None:
    assert hrefs(OFFLINE, reader) == ["/console/projects/proj-a", "/console/devices/lane-a-out"]
    assert hrefs(HIT, reader) == ["/console/projects/proj-a", "/console/devices/lane-a-in"]


def test_an_overdue_order_links_to_the_order() -> None:
    assert hrefs(OVERDUE, w.CITY) == ["/console/projects/proj-a", "/console/orders/7"]


def test_no_reader_no_links() -> None:
    assert hrefs(OFFLINE, None) == []
