"""Board profiles: which GPIO drives which output, as data under ``hardware/boards``.

A profile is validated when loaded: a pin used twice, or a pin the ID module's UART needs, is a
wiring mistake that would open the wrong gate or silence the reader, so it is refused by name.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

BcmPin = Annotated[int, Field(ge=0, le=27)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OutputPin(_Frozen):
    pin: BcmPin
    active_high: bool = True


class InputPin(_Frozen):
    pin: BcmPin
    active_high: bool = False
    pull_up: bool | None = True


class Outputs(_Frozen):
    relay_in: OutputPin
    relay_out: OutputPin
    green_led: OutputPin
    red_led: OutputPin
    buzzer: OutputPin


class Inputs(_Frozen):
    rotation: InputPin | None = None
    fire_alarm: InputPin | None = None
    tamper: InputPin | None = None


class Ssd1306Spec(_Frozen):
    """A 128×64 monochrome OLED (SSD1306) on the I2C bus: four wires, two of them the bus."""

    kind: Literal["ssd1306"]
    i2c_port: Annotated[int, Field(ge=0, le=22)] = 1
    i2c_address: Annotated[int, Field(ge=0x03, le=0x77)] = 0x3C
    sda: BcmPin = 2
    scl: BcmPin = 3
    rotate: Annotated[int, Field(ge=0, le=3)] = 0

    def pins(self) -> dict[str, int]:
        return {"sda": self.sda, "scl": self.scl}


SPI_SPEEDS_HZ = tuple(mhz * 1_000_000 for mhz in (1, 2, 4, 8, 16, 20, 24, 28, 32, 36, 40, 44, 48, 50, 52))
"""The bus speeds luma's SPI interface accepts."""


class St7789Spec(_Frozen):
    """A 240×240 colour TFT (ST7789) on SPI0, with data/command, reset and backlight lines."""

    kind: Literal["st7789"]
    spi_port: Annotated[int, Field(ge=0, le=6)] = 0
    spi_device: Annotated[int, Field(ge=0, le=2)] = 0
    mosi: BcmPin = 10
    sclk: BcmPin = 11
    ce: BcmPin = 8
    dc: BcmPin
    reset: BcmPin
    backlight: BcmPin
    bus_speed_hz: int = 40_000_000
    rotate: Annotated[int, Field(ge=0, le=3)] = 0

    @model_validator(mode="after")
    def _a_speed_luma_accepts(self) -> St7789Spec:
        if self.bus_speed_hz not in SPI_SPEEDS_HZ:
            raise ValueError(f"bus_speed_hz {self.bus_speed_hz} is not one of {SPI_SPEEDS_HZ}")
        return self

    def pins(self) -> dict[str, int]:
        return {
            "mosi": self.mosi,
            "sclk": self.sclk,
            "ce": self.ce,
            "dc": self.dc,
            "reset": self.reset,
            "backlight": self.backlight,
        }


DisplaySpec = Annotated[Ssd1306Spec | St7789Spec, Field(discriminator="kind")]


class I2sAmplifierSpec(_Frozen):
    """An I2S class-D amplifier (MAX98357A) and its speaker: the Pi 5 and the Zero 2 W have no
    analogue audio out, so every profile uses I2S (``dtoverlay=max98357a``)."""

    kind: Literal["max98357a"] = "max98357a"
    bclk: BcmPin = 18
    lrclk: BcmPin = 19
    data: BcmPin = 21

    def pins(self) -> dict[str, int]:
        return {"bclk": self.bclk, "lrclk": self.lrclk, "data": self.data}


class BoardProfile(_Frozen):
    name: str
    uart_pins: tuple[BcmPin, ...] = ()
    outputs: Outputs
    inputs: Inputs = Inputs()
    display: DisplaySpec | None = None
    """The worker's screen (``controller.feedback``); ``None``: the lane has none."""
    audio: I2sAmplifierSpec | None = None

    def pins(self) -> dict[str, int]:
        named: dict[str, int] = {}
        for group_name in ("outputs", "inputs"):
            group = getattr(self, group_name)
            for field_name in type(group).model_fields:
                spec = getattr(group, field_name)
                if spec is not None:
                    named[f"{group_name}.{field_name}"] = spec.pin
        for part_name in ("display", "audio"):
            part = getattr(self, part_name)
            if part is not None:
                named |= {f"{part_name}.{line}": pin for line, pin in part.pins().items()}
        return named

    @model_validator(mode="after")
    def _no_pin_twice(self) -> BoardProfile:
        seen: dict[int, str] = {}
        for name, pin in self.pins().items():
            if pin in self.uart_pins:
                raise ValueError(f"{name} uses GPIO{pin}, which the ID module's UART needs")
            if pin in seen:
                raise ValueError(f"{name} and {seen[pin]} both use GPIO{pin}")
            seen[pin] = name
        return self


class BoardError(ValueError):
    pass


def load_board(name_or_path: str) -> BoardProfile:
    """A built-in profile by name (``rpi4``) or a TOML file by path."""
    path = Path(name_or_path)
    if path.suffix == ".toml":
        source, text = str(path), path.read_text(encoding="utf-8")
    else:
        ref = resources.files("hardware.boards").joinpath(f"{name_or_path}.toml")
        if not ref.is_file():
            raise BoardError(f"no built-in board profile named {name_or_path!r}")
        source, text = f"board profile {name_or_path}", ref.read_text(encoding="utf-8")
    try:
        return BoardProfile.model_validate(tomllib.loads(text))
    except (tomllib.TOMLDecodeError, ValidationError) as err:
        raise BoardError(f"{source}: {err}") from err
