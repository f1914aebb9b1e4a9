"""hub.api.limits: whose address a request is, and the 429 it gets (the server-level limits are
tested over real sockets in tests/security/test_http_limits.py)."""

from __future__ import annotations

import ipaddress
from unittest import mock

import pytest
from aiohttp.test_utils import make_mocked_request

from hub.api.limits import FD_HEADROOM, client_address, connection_limit, too_many

PROXIES = (ipaddress.ip_network("10.0.0.0/24"), ipaddress.ip_network("fd00::1/128"))


def _request(peer: str, forwarded: str | None = None) -> object:
    transport = mock.Mock()
    transport.get_extra_info.side_effect = lambda name, default=None: (
        (peer, 4242) if name == "peername" else default
    )
    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
    return make_mocked_request("GET", "/", headers=headers, transport=transport)


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("203.0.113.7", None, "203.0.113.7"),
        ("203.0.113.7", "198.51.100.1", "203.0.113.7"),  # not a trusted proxy: its header is its own
        ("10.0.0.5", "198.51.100.1", "198.51.100.1"),
        ("10.0.0.5", "1.2.3.4, 198.51.100.1", "198.51.100.1"),  # the left entry the client wrote
        ("10.0.0.5", "198.51.100.1, 10.0.0.9", "198.51.100.1"),  # a chain of trusted proxies
        ("10.0.0.5", "10.0.0.9", "10.0.0.5"),  # nobody but proxies: the peer
        ("10.0.0.5", "not-an-address", "10.0.0.5"),  # malformed: believe nothing
        ("fd00::1", "2001:db8::7", "2001:db8::7"),
        ("10.0.0.5", None, "10.0.0.5"),
    ],
)
def test_x_forwarded_for_is_believed_from_trusted_proxies_only(
    peer: str, forwarded: str | None, client: str
) -> None:
    assert client_address(_request(peer, forwarded), PROXIES) == client  # type: ignore[arg-type]


def test_too_many_says_when_to_come_back_in_whole_seconds() -> None:
    response = too_many(0.2)
    assert response.status == 429
    assert response.headers["Retry-After"] == "1"
    assert too_many(61.5).headers["Retry-After"] == "62"


def test_the_connection_cap_stays_below_the_file_descriptor_limit(caplog: pytest.LogCaptureFixture) -> None:
    """Past RLIMIT_NOFILE every accept fails with a logged traceback; the cap must come first."""
    assert connection_limit(2000, soft_fd_limit=1024) == 1024 - FD_HEADROOM
    assert "LimitNOFILE" in caplog.text
    assert connection_limit(2000, soft_fd_limit=65536) == 2000
    assert connection_limit(2000, soft_fd_limit=100) == 16
