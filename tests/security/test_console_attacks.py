"""Issue 13: the console's attacks that held, by name, against a real hub (the app on a real store,
its pages over aiohttp's test client, no browser). The browser-driven tests are in tests/console
(``test_a_forged_form_without_the_session_token_is_refused``; the charts' escaping in
test_charts.py)."""

from __future__ import annotations

from hub.console.i18n import Locale
from hub.console.render import environment
from tests.hub.registry.conftest import Client, World
from tests.support.accounts import TEST_PASSWORD

SCRIPT = "<script>alert(document.cookie)</script>"


async def _console_login(client: Client, username: str) -> None:
    """Signed in through the form, as a browser would: the session cookie kept by the client."""
    response = await client.post(
        "/console/login", data={"username": username, "password": TEST_PASSWORD}, allow_redirects=False
    )
    assert response.status == 303, await response.text()


async def test_csrf_a_form_without_the_session_token_is_refused(client: Client, http_world: World) -> None:
    """A page on another site can make a logged-in browser POST (the cookie is SameSite=Strict
    too); without the form's token, tied to the session, nothing is written."""
    await _console_login(client, http_world.district.username)
    forged = {"enterprise_pick": http_world.gc.id, "points": "9", "reason": "forged"}
    response = await client.post("/console/deductions", data=forged)
    assert response.status == 403
    response = await client.post("/console/deductions", data={**forged, "csrf": "0" * 64})
    assert response.status == 403
    listing = await client.get("/console/deductions")
    assert listing.url.path == "/console/deductions"  # signed in: the list itself, not the login form
    assert "forged" not in await listing.text()


async def test_xss_a_typed_name_is_escaped_on_the_login_page(client: Client, http_world: World) -> None:
    """The login form shows the typed name again after a refusal: escaped, never markup."""
    response = await client.post("/console/login", data={"username": SCRIPT, "password": "wrong-password-1"})
    page = await response.text()
    assert response.status == 401
    assert SCRIPT not in page
    assert "&lt;script&gt;" in page


def test_xss_every_console_template_is_autoescaped() -> None:
    """What the registry holds (names, reasons) is typed by its users: each page escapes it."""
    for locale in Locale:
        env = environment(locale)
        for name in env.list_templates(extensions=["html"]):
            assert env.autoescape is True or env.autoescape(name), (locale, name)  # type: ignore[operator]
