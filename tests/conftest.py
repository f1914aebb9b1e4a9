"""Fixtures that start real parts on loopback: each test gets what it asks for, nothing shared by accident."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sitegate.mosquitto import Mosquitto
from tests.support.pcscd import pcscd, vpcd  # noqa: F401 - fixtures shared by reader and lane tests


@pytest.fixture
def broker() -> Iterator[Mosquitto]:
    """A private mosquitto on a free loopback port, stopped after the test."""
    with Mosquitto() as mosq:
        yield mosq
