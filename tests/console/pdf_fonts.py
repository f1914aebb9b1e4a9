"""What a test asks of a PDF the console made: its text and the fonts embedded in it (pypdf)."""

from __future__ import annotations

import io

from pypdf import PdfReader


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def embedded_fonts(pdf: bytes) -> set[str]:
    """The base names of the fonts whose glyphs the file carries (a FontFile* in the descriptor)."""
    names: set[str] = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        fonts = page["/Resources"].get_object().get("/Font", {})
        for ref in fonts.values():
            font = ref.get_object()
            for face in [font, *(d.get_object() for d in font.get("/DescendantFonts", []))]:
                descriptor = face.get("/FontDescriptor")
                if descriptor is None:
                    continue
                descriptor = descriptor.get_object()
                if any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")):
                    names.add(str(face["/BaseFont"]).split("+", 1)[-1])
    return names
