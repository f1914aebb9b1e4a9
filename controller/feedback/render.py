"""Drawing a :class:`~controller.feedback.screens.Screen` into a Pillow image for a display.

Two layouts, chosen by the display's size and colour mode: a 128×64 monochrome OLED (SSD1306)
gets the verdict, the name (or the lane) and two lines of what to do next; a 240×240 colour TFT
(ST7789) gets a header, a coloured verdict band a worker reads from two metres, the name, and up
to three lines of what to do next. Chinese needs a CJK font (WenQuanYi Zen Hei by default,
``[display] font``); text is fitted by measuring it, never by counting characters.

Every string drawn goes through one function and is recorded on the result: a test renders every
screen for a synthetic identity and checks its ID number is in none of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PIL import Image, ImageDraw

from controller.feedback.fonts import DEFAULT_FONT, FontError, Fonts
from controller.feedback.screens import Screen
from wire.labels import Tone

ELLIPSIS = "…"
MONOCHROME_MAX_WIDTH = 160
"""Displays up to this width get the compact layout (an SSD1306 is 128 wide)."""

Fill = int | tuple[int, int, int]
"""A pixel: 0/1 on a monochrome panel, RGB on a colour one."""

BAND: dict[Tone, tuple[int, int, int]] = {
    Tone.GO: (20, 140, 60),
    Tone.REFUSED: (200, 30, 30),
    Tone.NOTICE: (230, 140, 0),
    Tone.ALARM: (170, 0, 0),
}
HEADER_BG = (40, 40, 40)
TEXT = (255, 255, 255)
SOFT_TEXT = (225, 225, 225)


@dataclass
class Rendered:
    image: Image.Image
    texts: list[str] = field(default_factory=list)


class _Painter:
    def __init__(self, image: Image.Image, fonts: Fonts) -> None:
        self.draw = ImageDraw.Draw(image)
        if image.mode == "1":
            self.draw.fontmode = "1"  # crisp bitmaps on a monochrome panel, no grey fringes to threshold
        self.fonts = fonts
        self.texts: list[str] = []

    def width(self, text: str, pixels: int) -> int:
        return int(self.draw.textlength(text, font=self.fonts.size(pixels)))

    def fit(self, text: str, max_width: int, sizes: tuple[int, ...]) -> int:
        """The largest of ``sizes`` (descending) at which ``text`` fits on one line."""
        for pixels in sizes:
            if self.width(text, pixels) <= max_width:
                return pixels
        return sizes[-1]

    def wrap(self, text: str, max_width: int, pixels: int, max_lines: int) -> list[str]:
        """Lines of even length (no lone last character), as few as fit; the last ends in … if cut."""
        lines = self._greedy(text, max_width, pixels, max_lines)
        if 1 < len(lines) <= max_lines:
            even = -(-self.width(text, pixels) // len(lines)) + pixels  # one character of slack
            balanced = self._greedy(text, min(even, max_width), pixels, max_lines)
            if len(balanced) == len(lines):
                return balanced
        return lines

    def _greedy(self, text: str, max_width: int, pixels: int, max_lines: int) -> list[str]:
        """Character by character (Chinese has no spaces)."""
        lines: list[str] = []
        current = ""
        for char in text:
            if self.width(current + char, pixels) <= max_width or not current:
                current += char
                continue
            lines.append(current)
            current = char.lstrip("，。 ")
        if current:
            lines.append(current)
        if len(lines) > max_lines:
            last = lines[max_lines - 1]
            while last and self.width(last + ELLIPSIS, pixels) > max_width:
                last = last[:-1]
            lines = [*lines[: max_lines - 1], last + ELLIPSIS]
        return lines

    def text(self, xy: tuple[int, int], text: str, pixels: int, fill: Fill, *, anchor: str = "la") -> None:
        self.texts.append(text)
        self.draw.text(xy, text, font=self.fonts.size(pixels), fill=fill, anchor=anchor)


def render(screen: Screen, size: tuple[int, int], mode: str, fonts: Fonts) -> Rendered:
    """The screen as an image of the display's ``size`` and ``mode`` ("1" or "RGB")."""
    image = Image.new(mode, size, 0 if mode == "1" else (0, 0, 0))
    painter = _Painter(image, fonts)
    if mode == "1" or size[0] <= MONOCHROME_MAX_WIDTH:
        _compact(painter, screen, size)
    else:
        _colour(painter, screen, size)
    return Rendered(image, painter.texts)


def _compact(p: _Painter, screen: Screen, size: tuple[int, int]) -> None:
    width, height = size
    white = 1 if p.draw.im.mode == "1" else TEXT
    black = 0 if p.draw.im.mode == "1" else (0, 0, 0)
    headline = 16
    alarm = screen.tone in (Tone.REFUSED, Tone.ALARM)
    if alarm:  # refused: the headline inverted, so it reads as "stop" without colour
        p.draw.rectangle((0, 0, width - 1, headline + 1), fill=white)
    elif screen.tone is Tone.NOTICE:
        p.draw.rectangle((0, 0, width - 1, headline + 1), outline=white)
    pixels = p.fit(screen.verdict, width - 4, (16, 14, 12))
    p.text((width // 2, headline // 2 + 1), screen.verdict, pixels, black if alarm else white, anchor="mm")
    second = screen.person or screen.header
    p.text((width // 2, headline + 11), second, p.fit(second, width - 2, (14, 12)), white, anchor="mm")
    line_px = 12
    top = headline + 20
    lines = p.wrap(screen.next_step, width - 2, line_px, max(1, (height - top) // (line_px + 1)))
    for i, line in enumerate(lines):
        p.text((1, top + i * (line_px + 1)), line, line_px, white)


def _colour(p: _Painter, screen: Screen, size: tuple[int, int]) -> None:
    width, height = size
    unit = height / 240  # the layout is drawn for 240×240 and scaled to the panel
    header_h, band_h = round(32 * unit), round(76 * unit)
    p.draw.rectangle((0, 0, width - 1, header_h - 1), fill=HEADER_BG)
    p.text((round(8 * unit), header_h // 2), screen.header, round(20 * unit), SOFT_TEXT, anchor="lm")
    p.text((width - round(8 * unit), header_h // 2), "实名制", round(16 * unit), SOFT_TEXT, anchor="rm")
    p.draw.rectangle((0, header_h, width - 1, header_h + band_h - 1), fill=BAND[screen.tone])
    sizes = tuple(round(s * unit) for s in (44, 38, 32, 26))
    verdict_px = p.fit(screen.verdict, width - round(12 * unit), sizes)
    p.text((width // 2, header_h + band_h // 2), screen.verdict, verdict_px, TEXT, anchor="mm")
    top = header_h + band_h + round(8 * unit)
    if screen.person:
        person_px = round(32 * unit)
        p.text((width // 2, top + person_px // 2), screen.person, person_px, TEXT, anchor="mm")
        top += person_px + round(10 * unit)
    line_px = round(22 * unit)
    max_lines = max(1, (height - top) // (line_px + round(6 * unit)))
    for i, line in enumerate(p.wrap(screen.next_step, width - round(16 * unit), line_px, max_lines)):
        y = top + i * (line_px + round(6 * unit))
        p.text((width // 2, y), line, line_px, SOFT_TEXT, anchor="ma")


__all__ = ["DEFAULT_FONT", "FontError", "Fonts", "Rendered", "render"]
