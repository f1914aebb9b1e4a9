"""Opening the lane's display with luma: the panel the board profile names, or an emulator.

luma.oled drives the SSD1306 over I2C, luma.lcd the ST7789 over SPI; both take their GPIO lines
(the ST7789's data/command, reset and backlight) through an RPi.GPIO-shaped object. Ours,
:class:`GpiozeroLines`, puts those lines on the lane's own gpiozero pin factory: the same factory
the relays use (lgpio on a Pi 5, where RPi.GPIO does not work; ``MockFactory`` in tests).

Imports of luma happen here, in the worker thread that opens the display, never on the path that
boots the lane.
"""

from __future__ import annotations

from typing import Any

from gpiozero import DigitalOutputDevice

from controller.board import DisplaySpec, Ssd1306Spec, St7789Spec

EMULATED_SIZES: dict[str, tuple[int, int, str]] = {
    "ssd1306": (128, 64, "1"),
    "st7789": (240, 240, "RGB"),
}


class GpiozeroLines:
    """The part of RPi.GPIO's interface luma uses (setup, output, cleanup), on gpiozero devices."""

    BCM = 11
    OUT = 0
    IN = 1
    LOW = 0
    HIGH = 1

    def __init__(self, pin_factory: Any = None) -> None:
        self._pin_factory = pin_factory
        self._lines: dict[int, DigitalOutputDevice] = {}

    def setmode(self, mode: int) -> None:
        pass

    def setwarnings(self, enabled: bool) -> None:
        pass

    def setup(self, pin: int, mode: int, initial: int | None = None, **_: Any) -> None:
        if mode != self.OUT:
            raise ValueError(f"GPIO{pin}: only outputs are needed by a display")
        if pin not in self._lines:
            self._lines[pin] = DigitalOutputDevice(
                pin, initial_value=bool(initial), pin_factory=self._pin_factory
            )

    def output(self, pin: int, value: int) -> None:
        self._lines[pin].value = bool(value)

    def cleanup(self, pins: int | list[int] | None = None) -> None:
        chosen = list(self._lines) if pins is None else [pins] if isinstance(pins, int) else list(pins)
        for pin in chosen:
            line = self._lines.pop(pin, None)
            if line is not None:
                line.close()


class NullSpi:
    """spidev's interface as luma drives it, sending nowhere: the bench runs the real ST7789 driver
    (the frame as a Python list, 4 KB transfers, the D/C line) on mock pins with it."""

    max_speed_hz = 0
    mode = 0

    def open(self, port: int, device: int) -> None:
        pass

    def writebytes(self, data: object) -> None:
        pass

    def close(self) -> None:
        pass


def open_panel(spec: DisplaySpec, *, pin_factory: Any = None, bus: Any = None) -> Any:
    """The real panel on its bus; raises (DeviceNotFoundError, OSError, ...) if it is not there.

    ``bus``: the I2C (smbus2-like) or SPI (spidev-like) bus object to use instead of opening
    ``/dev/i2c-N`` or ``/dev/spidevN.M`` (a test's fake, recording what the driver sends)."""
    if isinstance(spec, Ssd1306Spec):
        from luma.core.interface.serial import i2c
        from luma.oled.device import ssd1306

        serial_i2c = i2c(bus=bus, port=spec.i2c_port, address=spec.i2c_address)
        return ssd1306(serial_i2c, width=128, height=64, rotate=spec.rotate)
    assert isinstance(spec, St7789Spec)
    from luma.core.interface.serial import spi
    from luma.lcd.device import st7789

    lines = GpiozeroLines(pin_factory)
    serial = spi(
        spi=bus,
        port=spec.spi_port,
        device=spec.spi_device,
        gpio=lines,
        gpio_DC=spec.dc,
        gpio_RST=spec.reset,
        bus_speed_hz=spec.bus_speed_hz,
    )
    # gpio_LIGHT always given: luma's default (GPIO18) is the amplifier's I2S bit clock.
    return st7789(serial, gpio=lines, gpio_LIGHT=spec.backlight, active_low=False, rotate=spec.rotate)


def open_emulator(spec: DisplaySpec | None) -> Any:
    """luma's ``dummy`` device of the panel's size and mode: keeps the last image drawn, no hardware."""
    from luma.core.device import dummy

    width, height, mode = EMULATED_SIZES[spec.kind if spec is not None else "st7789"]
    return dummy(width=width, height=height, mode=mode)
