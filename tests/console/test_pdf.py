"""hub.console.pdf: the PDF carries the document's Chinese text in an embedded CJK font."""

from __future__ import annotations

from hub.console.pdf import CJK_FONT_STACK, render_pdf
from tests.console.pdf_fonts import embedded_fonts, pdf_text

DOCUMENT = f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<style>body {{ font-family: {CJK_FONT_STACK}; }} @media screen {{ .print-only {{ display: none; }} }}</style>
</head><body><h1>关于拒不落实实名制管理的通报</h1><p>杭建实名通〔2026〕3号</p>
<p class="print-only">盖章</p></body></html>"""


def test_the_pdf_has_the_text_in_an_embedded_cjk_font() -> None:
    pdf = render_pdf(DOCUMENT)
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    assert "关于拒不落实实名制管理的通报" in text
    assert "杭建实名通〔2026〕3号" in text
    assert "盖章" in text  # rendered for print: the screen-only rule does not apply
    assert any("CJK" in name for name in embedded_fonts(pdf)), embedded_fonts(pdf)
