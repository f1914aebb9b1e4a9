"""Every screen as a picture: each reason and idle state, on both panels, through luma's emulators.

The PNGs land in ``artifacts/screens/`` (what the luma.emulator ``capture`` device was sent, at the
emulator's 2× scale for the small OLED); the README's sheet is made by ``python -m hardware.screens``.
"""

from __future__ import annotations

import itertools
import os
import random
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from controller.feedback.names import person_of
from controller.feedback.render import FontError, Fonts, render
from controller.feedback.screens import screen_for
from hardware.emulators.identities import synthetic_identity
from hardware.screens import PANELS, contact_sheet, every_shot, shoot
from wire.labels import LABELS, Subject, label_for
from wire.models import CardKind, Direction

ARTIFACTS = Path(__file__).parents[3] / "artifacts" / "screens"
SUBJECTS = list(LABELS)


@pytest.fixture(scope="module")
def fonts() -> Fonts:
    return Fonts()


@pytest.mark.parametrize("panel", PANELS)
@pytest.mark.parametrize("subject", SUBJECTS, ids=str)
def test_every_screen_is_drawn_and_captured(panel: str, subject: Subject, fonts: Fonts) -> None:
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    from luma.emulator.device import capture

    shot = shoot(panel, subject, fonts)
    lit = shot.image.convert("L").point(lambda v: 255 if v > 40 else 0).histogram()[255]
    width, height = shot.image.size
    assert 0.04 * width * height < lit < 0.9 * width * height, f"{lit} lit pixels"
    assert label_for(subject).verdict.zh in shot.texts
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = ARTIFACTS / f"{panel}-{subject.value}.png"
    target.unlink(missing_ok=True)
    device = capture(
        width=width,
        height=height,
        mode="1" if panel == "ssd1306" else "RGB",
        transform="scale2x" if panel == "ssd1306" else "none",
        scale=2 if panel == "ssd1306" else 1,
        file_template=str(target),
    )
    device.display(shot.image.convert(device.mode))
    device.cleanup()
    written = Image.open(target)
    assert written.size[0] >= width and written.getbbox() is not None


def test_screens_differ_where_their_words_do(fonts: Fonts) -> None:
    shots = {(s.panel, s.subject): s.image for s in every_shot(fonts)}
    for panel in PANELS:
        for a, b in itertools.pairwise(SUBJECTS):
            same_words = (
                label_for(a).verdict == label_for(b).verdict
                and label_for(a).next_step == label_for(b).next_step
            )
            differ = ImageChops.difference(shots[(panel, a)], shots[(panel, b)]).getbbox() is not None
            assert differ or same_words, (panel, a, b)


@pytest.mark.parametrize(
    "kind",
    [CardKind.RESIDENT, CardKind.HMT_RESIDENCE_PERMIT, CardKind.FOREIGNER_2017, CardKind.FOREIGNER_2023],
)
def test_no_screen_ever_draws_the_id_number_or_the_full_name(kind: CardKind, fonts: Fonts) -> None:
    rng = random.Random(21)
    for _ in range(5):
        card = synthetic_identity(rng, kind=kind)
        person = person_of(card)
        for subject in SUBJECTS:
            screen = screen_for(subject, lane="A1", direction=Direction.IN, person=person)
            for size, mode in (((128, 64), "1"), ((240, 240), "RGB")):
                drawn = render(screen, size, mode, fonts)
                assert person is None or person in drawn.texts
                for text in drawn.texts:
                    assert card.id_number not in text
                    assert card.id_number[-6:] not in text  # not even its tail
                    assert len(card.name) < 2 or card.name not in text


def test_a_missing_font_is_an_error_naming_the_file(tmp_path: Path) -> None:
    screen = screen_for(SUBJECTS[0], lane="A1", direction=Direction.IN)
    with pytest.raises(FontError, match="no-such-font"):
        render(screen, (128, 64), "1", Fonts(tmp_path / "no-such-font.ttc"))


def test_the_contact_sheet_holds_every_screen(fonts: Fonts) -> None:
    sheet = contact_sheet(every_shot(fonts), fonts)
    assert sheet.size[0] > 6 * 240 and sheet.size[1] > 3 * (240 + 128)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    sheet.save(ARTIFACTS / "contact-sheet.png")


def test_the_readme_shows_the_committed_sheet_of_every_screen(fonts: Fonts) -> None:
    """A reason or state added without remaking the sheet changes its size: remake it with
    ``python -m hardware.screens --sheet hardware/screens.png``."""
    repo = Path(__file__).parents[3]
    assert "](hardware/screens.png)" in (repo / "README.md").read_text()
    committed = Image.open(repo / "hardware" / "screens.png")
    assert committed.size == contact_sheet(every_shot(fonts), fonts).size
