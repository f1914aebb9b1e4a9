"""The screen's font: one CJK font file at the sizes the layouts ask for.

Kept apart from :mod:`.render` so that the lane can configure its screen without importing
Pillow: on a real lane the drawing happens in the feedback child process, and Pillow's import
(tens of milliseconds on a Pi) stays off the lane's start-up.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL.ImageFont import FreeTypeFont

DEFAULT_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
"""Debian's fonts-wqy-zenhei: a CJK outline font with embedded bitmaps for small sizes."""


class FontError(RuntimeError):
    """The configured font cannot be loaded (missing package, unreadable file)."""


class Fonts:
    """One font file at every size a layout asks for, loaded once per size."""

    def __init__(self, path: Path = DEFAULT_FONT) -> None:
        self.path = path
        self._sizes: dict[int, FreeTypeFont] = {}

    def size(self, pixels: int) -> FreeTypeFont:
        font = self._sizes.get(pixels)
        if font is None:
            from PIL import ImageFont

            try:
                font = ImageFont.truetype(str(self.path), pixels)
            except OSError as err:
                raise FontError(f"font {self.path}: {err}") from err
            self._sizes[pixels] = font
        return font
