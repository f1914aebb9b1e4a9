"""What the site manager runs on the Pi once the console issued a gate's enrolment token: the exact
``setup-lane.sh`` command line (README, "Provisioning a lane": the script from the SiteGate copy
on the Pi, ``--hub`` this hub's address, ``--token`` the one-time token, which the script hands to
``sitegate provision`` in its environment) and the same line as a QR code, so it can be read off
the screen by a phone rather than copied by hand.

The QR code is drawn here, on the server, as inline SVG (segno: pure Python, no image library, no
script in the page; the console's CSP allows nothing else). Pure: text in, text out.
"""

from __future__ import annotations

import shlex
from typing import Final

from markupsafe import Markup

SCRIPT: Final = "./sitegate/provisioning/setup-lane.sh"
"""Where the README's step 1 puts SiteGate's copy on the Pi, relative to where it is run."""


def setup_command(hub_url: str, token: str) -> str:
    """``sudo ./sitegate/provisioning/setup-lane.sh --hub URL --token TOKEN``, each argument quoted
    for the shell if it needs it (a token is URL-safe base64 and never does)."""
    return shlex.join(["sudo", SCRIPT, "--hub", hub_url, "--token", token])


def qr_svg(text: str, *, title: str) -> Markup:
    """``text`` as a QR code (error correction M), an inline ``<svg>`` scaled by the stylesheet;
    ``title`` is its accessible name. Markup: segno writes it, no data reaches it unescaped."""
    import segno  # when a token is shown, not at every hub's start (~6 ms of CPU)

    code = segno.make(text, error="m", micro=False)
    svg = code.svg_inline(scale=4, border=2, title=title, svgclass="qr", lineclass=None, omitsize=True)
    return Markup(svg)  # noqa: S704 - segno's own SVG; the title is XML-escaped by segno
