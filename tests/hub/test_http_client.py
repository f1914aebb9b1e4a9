"""The HTTP session the uploader and the deliveries hold while used as ``async with``."""

from __future__ import annotations

import pytest

from hub.http_client import HttpSession


async def test_a_session_is_there_between_open_and_close_only() -> None:
    http = HttpSession("Uploader")
    with pytest.raises(RuntimeError, match="Uploader is used as 'async with'"):
        _ = http.session
    await http.open()
    session = http.session
    await http.open()  # a second open keeps the session (and leaks no other)
    assert http.session is session
    assert not session.closed
    await http.close()
    assert session.closed
    with pytest.raises(RuntimeError, match="Uploader"):
        _ = http.session
    await http.close()  # closing twice is harmless
