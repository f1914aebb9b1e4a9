"""The real luma drivers, on fake buses and the lane's mock pins: what a panel would receive."""

from __future__ import annotations

from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory
from PIL import Image

from controller.board import load_board
from controller.feedback.display import GpiozeroLines, open_emulator, open_panel


class FakeSpi:
    """spidev's interface as luma uses it, recording every byte."""

    def __init__(self) -> None:
        self.sent = bytearray()
        self.opened: tuple[int, int] | None = None
        self.max_speed_hz = 0
        self.mode = 0

    def open(self, port: int, device: int) -> None:
        self.opened = (port, device)

    def writebytes(self, data: Any) -> None:
        self.sent += bytes(data)

    def close(self) -> None:
        self.opened = None


class FakeI2c:
    def __init__(self) -> None:
        self.writes: list[tuple[int, int, list[int]]] = []

    def write_i2c_block_data(self, address: int, register: int, data: list[int]) -> None:
        self.writes.append((address, register, list(data)))


def test_st7789_on_the_boards_spi_and_pins() -> None:
    board = load_board("rpi4")
    spec = board.display
    assert spec is not None and spec.kind == "st7789"
    pins, bus = MockFactory(), FakeSpi()
    device = open_panel(spec, pin_factory=pins, bus=bus)
    assert bus.opened == (spec.spi_port, spec.spi_device)
    assert bus.max_speed_hz == spec.bus_speed_hz
    assert pins.pin(spec.backlight).state == 1  # backlight on
    assert pins.pin(spec.reset).state == 1  # out of reset
    bus.sent.clear()
    device.display(Image.new("RGB", device.size, (255, 0, 0)))
    assert pins.pin(spec.dc).state == 1  # last thing sent was pixel data
    assert len(bus.sent) >= 240 * 240 * 3
    device.cleanup()


def test_ssd1306_on_the_boards_i2c_address() -> None:
    spec = load_board("rpizero2w").display
    assert spec is not None and spec.kind == "ssd1306"
    bus = FakeI2c()
    device = open_panel(spec, bus=bus)
    bus.writes.clear()
    device.display(Image.new("1", device.size, 1))
    data = [byte for address, register, chunk in bus.writes if register == 0x40 for byte in chunk]
    assert {address for address, _, _ in bus.writes} == {0x3C}
    assert len(data) == 128 * 64 // 8 and set(data) == {0xFF}


def test_the_gpio_shim_refuses_inputs() -> None:
    with pytest.raises(ValueError, match="only outputs"):
        GpiozeroLines(MockFactory()).setup(5, GpiozeroLines.IN)


@pytest.mark.parametrize(
    ("board", "size", "mode"), [("rpi4", (240, 240), "RGB"), ("rpizero2w", (128, 64), "1")]
)
def test_the_emulator_takes_the_panels_size_and_mode(board: str, size: tuple[int, int], mode: str) -> None:
    device = open_emulator(load_board(board).display)
    assert device.size == size and device.mode == mode
