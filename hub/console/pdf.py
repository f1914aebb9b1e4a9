"""HTML to PDF on the server (weasyprint), for the documents the authorities print and file:
通报 now, the monthly reports next.

One call, :func:`render_pdf`, taking the same HTML the printable page serves (its print CSS
applies: weasyprint renders for the ``print`` medium) and giving back the PDF's bytes. The fonts
are the machine's (fontconfig); the document's CSS names Noto CJK first, so the Chinese text is
set in a CJK face that weasyprint embeds (subset) in the PDF, and the file reads the same on a
machine without those fonts.

weasyprint is imported on the first call: it loads pango through cffi, which the hub's other
pages never need.
"""

from __future__ import annotations

from typing import Final

CJK_FONT_STACK: Final = '"Noto Sans CJK SC", "Noto Serif CJK SC", "WenQuanYi Zen Hei", sans-serif'
"""What a document's CSS names for its text: the Debian CJK fonts ``make`` installs."""


def render_pdf(html: str) -> bytes:
    """The PDF of ``html`` (a whole document; relative URLs are not resolved, so keep CSS inline)."""
    from weasyprint import HTML  # imported here: see the module's docstring

    pdf: bytes = HTML(string=html, base_url=None).write_pdf()
    return pdf
