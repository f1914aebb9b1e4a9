"""Listening ports for tests, benches and the demo come from below the kernel's ephemeral range, so
no client's connect() can take one between the pick and the listener's bind."""

from __future__ import annotations

import socket

from sitegate.netutil import LISTEN_PORTS, _ephemeral_floor, free_port


def test_a_free_port_is_below_the_ephemeral_range_and_can_be_bound() -> None:
    floor = _ephemeral_floor()
    for _ in range(50):
        port = free_port()
        assert LISTEN_PORTS.start <= port < min(LISTEN_PORTS.stop, floor)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", port))


def test_a_port_in_use_is_not_handed_out() -> None:
    held: list[socket.socket] = []
    try:
        for _ in range(200):  # each pick must avoid every port held so far, or its bind fails
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            held.append(sock)
            sock.bind(("127.0.0.1", free_port()))
            sock.listen()
    finally:
        for sock in held:
            sock.close()
