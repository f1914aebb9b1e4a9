"""The hub's address the gates page tells a Pi (hub.console.views_gates.hub_url): the one the
browser reached, or what a trusted TLS-terminating proxy says it received; never a header from
anyone else."""

from __future__ import annotations

from ipaddress import ip_network
from unittest import mock

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from hub.api.keys import CONFIG
from hub.config import HttpLimits, HubConfig
from hub.console.views_gates import hub_url

PROXY = "10.0.0.2"


def request(peer: str, headers: dict[str, str]) -> web.Request:
    app = web.Application()
    app[CONFIG] = HubConfig(http=HttpLimits(trusted_proxies=(ip_network("10.0.0.0/24"),)))
    transport = mock.Mock()
    transport.get_extra_info.return_value = (peer, 50000)
    return make_mocked_request(
        "POST", "/console/projects/P-1/gates/lane-a/token", headers=headers, app=app, transport=transport
    )


FORWARDED = {"Host": "10.0.0.9:8080", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "hub.example.gov.cn"}


@pytest.mark.parametrize(
    ("peer", "headers", "url"),
    [
        ("127.0.0.1", {"Host": "127.0.0.1:8080"}, "http://127.0.0.1:8080"),
        (PROXY, FORWARDED, "https://hub.example.gov.cn"),
        (PROXY, {"Host": "hub.example.gov.cn", "X-Forwarded-Proto": "https"}, "https://hub.example.gov.cn"),
        ("192.0.2.7", FORWARDED, "http://10.0.0.9:8080"),  # not a trusted proxy: its headers are ignored
        (PROXY, {**FORWARDED, "X-Forwarded-Host": "evil.example/`reboot`"}, "https://10.0.0.9:8080"),
        (PROXY, {**FORWARDED, "X-Forwarded-Proto": "ftp"}, "http://hub.example.gov.cn"),
    ],
)
def test_the_hub_url_is_the_one_people_reach(peer: str, headers: dict[str, str], url: str) -> None:
    assert hub_url(request(peer, headers)) == url
