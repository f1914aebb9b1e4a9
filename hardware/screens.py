"""Every screen a lane can show, on both panels, as pictures: the test's PNGs and the README's sheet.

    .venv/bin/python -m hardware.screens [--out artifacts/screens] [--sheet hardware/screens.png]

Each screen is drawn by the lane's own code (:mod:`controller.feedback.render`) onto luma's
emulator devices of each panel's size and mode (``dummy``: the image it was sent, no hardware).
Decisions carry a synthetic, masked name; idle states none. The sheet shows the ST7789 above the
SSD1306 (scaled 2×, as the emulator's ``scale2x`` shows it), one column per screen.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

from controller.feedback.display import EMULATED_SIZES, open_emulator
from controller.feedback.names import MaskedName, mask_name
from controller.feedback.render import Fonts, Rendered, render
from controller.feedback.screens import screen_for
from wire.labels import LABELS, Subject
from wire.models import Direction, Reason

PANELS = ("st7789", "ssd1306")
SAMPLE_NAME = "张小明"  # synthetic, as every identity in this repository
GAP = 8


@dataclass(frozen=True)
class Shot:
    panel: str
    subject: Subject
    image: Image.Image
    texts: tuple[str, ...]


def person_for(subject: Subject) -> MaskedName | None:
    """Decisions name the (masked) person when the card carried a name; idle screens nobody."""
    return (
        mask_name(SAMPLE_NAME)
        if isinstance(subject, Reason) and subject is not Reason.UNREADABLE_CARD
        else None
    )


def shoot(panel: str, subject: Subject, fonts: Fonts, person: MaskedName | None = None) -> Shot:
    """One screen, sent to the emulated panel; the picture is what the panel was sent."""
    from controller.board import Ssd1306Spec, St7789Spec

    spec = (
        Ssd1306Spec(kind="ssd1306")
        if panel == "ssd1306"
        else St7789Spec(kind="st7789", dc=26, reset=16, backlight=12)
    )
    device = open_emulator(spec)
    screen = screen_for(subject, lane="A1", direction=Direction.IN, person=person)
    drawn: Rendered = render(screen, device.size, device.mode, fonts)
    device.display(drawn.image)
    return Shot(panel, subject, device.image.convert("RGB"), tuple(drawn.texts))


def every_shot(fonts: Fonts) -> list[Shot]:
    return [shoot(panel, subject, fonts, person_for(subject)) for panel in PANELS for subject in LABELS]


def contact_sheet(shots: list[Shot], fonts: Fonts, columns: int = 6) -> Image.Image:
    """A grid, one cell per screen: its name, the ST7789 picture, the SSD1306 picture at 2×."""
    subjects = list(LABELS)
    width, height, _ = EMULATED_SIZES["st7789"]
    mono_w, mono_h, _ = EMULATED_SIZES["ssd1306"]
    caption = 14
    cell_h = caption + height + 2 * mono_h + 3 * GAP
    rows = -(-len(subjects) // columns)
    sheet = Image.new("RGB", (columns * (width + GAP) + GAP, rows * cell_h + GAP), (90, 90, 90))
    draw = ImageDraw.Draw(sheet)
    pictures = {(shot.panel, shot.subject): shot.image for shot in shots}
    for index, subject in enumerate(subjects):
        x = GAP + (index % columns) * (width + GAP)
        y = GAP + (index // columns) * cell_h
        draw.text((x, y), subject.value, font=fonts.size(caption - 2), fill=(255, 255, 255))
        sheet.paste(pictures[("st7789", subject)], (x, y + caption + GAP // 2))
        mono = pictures[("ssd1306", subject)].resize((2 * mono_w, 2 * mono_h), Image.Resampling.NEAREST)
        sheet.paste(mono, (x + (width - 2 * mono_w) // 2, y + caption + height + GAP))
    return sheet


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("artifacts/screens"))
    parser.add_argument("--sheet", type=Path)
    args = parser.parse_args(argv)
    fonts = Fonts()
    shots = every_shot(fonts)
    args.out.mkdir(parents=True, exist_ok=True)
    for shot in shots:
        shot.image.save(args.out / f"{shot.panel}-{shot.subject.value}.png")
    if args.sheet is not None:
        contact_sheet(shots, fonts).save(args.sheet, optimize=True)
    print(f"{len(shots)} screens in {args.out}" + (f", sheet {args.sheet}" if args.sheet else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
