"""Board profiles: which GPIO drives which output, as data under ``hardware/boards``.

A profile is validated when loaded: a pin used twice, or a pin the ID module's UART needs, is a
wiring mistake that would open the wrong gate or silence the reader, so it is refused by name.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Annotated

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


class BoardProfile(_Frozen):
    name: str
    uart_pins: tuple[BcmPin, ...] = ()
    outputs: Outputs
    inputs: Inputs = Inputs()

    def pins(self) -> dict[str, int]:
        named: dict[str, int] = {}
        for group_name in ("outputs", "inputs"):
            group = getattr(self, group_name)
            for field_name in type(group).model_fields:
                spec = getattr(group, field_name)
                if spec is not None:
                    named[f"{group_name}.{field_name}"] = spec.pin
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
