"""The demo's printout of console logins: one per role, stable."""

from hub.console.logins import one_per_role, printout


def test_one_login_per_role_in_role_order() -> None:
    accounts = {
        "b-gc": "gc_project",
        "a-gc": "gc_project",
        "city-duty": "city",
        "91330106MA0000001X": "enterprise",
    }
    assert one_per_role(accounts) == {
        "city": "city-duty",
        "enterprise": "91330106MA0000001X",
        "gc_project": "a-gc",
    }
    text = printout("http://127.0.0.1:8080", accounts, "password: x")
    assert text.splitlines()[0].startswith("Console: http://127.0.0.1:8080/console/")
    assert "a-gc" in text and "b-gc" not in text
