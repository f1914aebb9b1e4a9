"""The console's contact sheet for the README: the main pages side by side, each at desktop size
(1280×800) and on a phone (390×844), in Chinese, from the screenshots the browser tests write to
``artifacts/console/<page>-desktop.png`` and ``<page>-phone.png``.

``python -m tests.console.contact_sheet`` (after ``pytest tests/console/test_screenshots.py``)
writes :data:`COMMITTED`, the sheet the README shows: reduced (thumbnails, a 64-colour palette) so
git keeps a small PNG. The sheet names its pages inside itself (a PNG text chunk: name and console
path of each), so a test can tell a sheet showing pages the console no longer has
(``tests/console/test_screenshots.py``) without comparing pixels.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo

ROOT: Final = Path(__file__).resolve().parents[2]
ARTIFACTS: Final = ROOT / "artifacts" / "console"
COMMITTED: Final = ROOT / "docs" / "console.png"
PAGES_KEY: Final = "sitegate-console-pages"
"""The PNG text chunk holding the sheet's pages, as JSON: ``[{"name", "title", "path"}, ...]``."""
DESKTOP: Final = (1280, 800)
PHONE: Final = (390, 844)
SCALE: Final = 0.34
"""Thumbnails' share of a screenshot's size: the page's shape and headings stay readable."""
PER_ROW: Final = 2
"""Pages per row of the sheet (each a desktop thumbnail with its phone beside it)."""
MARGIN: Final = 12
CAPTION: Final = 26
FONT: Final = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")


@dataclass(frozen=True, slots=True)
class SheetPage:
    """A page on the sheet: its file name stem, its caption, and its console path (a template)."""

    name: str
    title: str
    path: str


def _thumb(path: Path, size: tuple[int, int]) -> Image.Image:
    with Image.open(path) as shot:
        frame = shot.convert("RGB").crop((0, 0, *size))
    return frame.resize((round(size[0] * SCALE), round(size[1] * SCALE)), Image.Resampling.LANCZOS)


def cell_size() -> tuple[int, int]:
    """One page's place on the sheet: desktop and phone thumbnails side by side, a caption above."""
    desk_w, desk_h = round(DESKTOP[0] * SCALE), round(DESKTOP[1] * SCALE)
    phone_w, phone_h = round(PHONE[0] * SCALE), round(PHONE[1] * SCALE)
    return desk_w + MARGIN + phone_w, CAPTION + max(desk_h, phone_h)


def sheet_size(pages: int) -> tuple[int, int]:
    width, height = cell_size()
    rows = -(-pages // PER_ROW)
    return MARGIN + PER_ROW * (width + MARGIN), MARGIN + rows * (height + MARGIN)


def build(pages: Sequence[SheetPage], shots: Path = ARTIFACTS) -> tuple[Image.Image, PngInfo]:
    """The sheet of ``pages`` from their screenshots in ``shots``, and its text chunk."""
    sheet = Image.new("RGB", sheet_size(len(pages)), "#e9edf2")
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.truetype(str(FONT), 16) if FONT.exists() else ImageFont.load_default()
    width, height = cell_size()
    for index, page in enumerate(pages):
        x = MARGIN + (index % PER_ROW) * (width + MARGIN)
        y = MARGIN + (index // PER_ROW) * (height + MARGIN)
        draw.text((x, y + 3), page.title, fill="#10253f", font=font)
        desktop = _thumb(shots / f"{page.name}-desktop.png", DESKTOP)
        phone = _thumb(shots / f"{page.name}-phone.png", PHONE)
        sheet.paste(desktop, (x, y + CAPTION))
        sheet.paste(phone, (x + desktop.width + MARGIN, y + CAPTION))
    info = PngInfo()
    info.add_text(PAGES_KEY, json.dumps([vars_of(p) for p in pages], ensure_ascii=False))
    return sheet, info


def vars_of(page: SheetPage) -> dict[str, str]:
    return {"name": page.name, "title": page.title, "path": page.path}


def save(sheet: Image.Image, info: PngInfo, target: Path) -> None:
    """Reduced for git: a 64-colour palette (screens of text and flat colour lose little)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    sheet.quantize(colors=64, method=Image.Quantize.MEDIANCUT).save(target, pnginfo=info, optimize=True)


def pages_of(path: Path) -> list[SheetPage]:
    """The pages a sheet names (its text chunk)."""
    with Image.open(path) as sheet:
        text = sheet.text.get(PAGES_KEY)  # type: ignore[attr-defined]
    return [SheetPage(**page) for page in json.loads(text)] if text else []


def main(argv: Sequence[str]) -> int:
    """Copy the sheet the last screenshot run made (``artifacts/console/contact-sheet.png``) to
    :data:`COMMITTED`, for the README."""
    made = ARTIFACTS / "contact-sheet.png"
    if argv or not made.exists():
        print(
            "usage: python -m tests.console.contact_sheet  (after pytest tests/console/test_screenshots.py)"
        )
        return 2
    COMMITTED.parent.mkdir(parents=True, exist_ok=True)
    COMMITTED.write_bytes(made.read_bytes())
    print(
        f"{COMMITTED.relative_to(ROOT)}: {len(pages_of(COMMITTED))} pages, {COMMITTED.stat().st_size // 1024} KiB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
