"""Whether a broker lets a client certificate in, answered by the broker itself, quickly.

A certificate the broker's CRL refuses is dropped right after the TLS handshake (TLS 1.3: the client
learns it at its first read). aiomqtt learns of that drop only at its connect timeout, which a slow
broker could cause as well: a refusal cost seconds and proved less. Here a bare MQTT CONNECT goes
over the TLS connection, and the answer is the broker's: a CONNACK, or the connection closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl

ACCEPTED = b"\x20\x02\x00\x00"
"""CONNACK, return code 0."""


def mqtt_connect(client_id: str) -> bytes:
    """An MQTT 3.1.1 CONNECT: clean session, keep-alive 60 s, no credentials (the certificate is)."""
    payload = len(client_id).to_bytes(2, "big") + client_id.encode()
    body = b"\x00\x04MQTT\x04\x02\x00\x3c" + payload
    return b"\x10" + bytes([len(body)]) + body


async def connects(host: str, port: int, context: ssl.SSLContext, client_id: str, *, within_s: float) -> bool:
    """True for a CONNACK accepting ``client_id``, False for a connection the broker closed or
    refused; anything else (no answer within ``within_s``, another answer) fails the test."""
    try:
        reader, writer = await asyncio.open_connection(host, port, ssl=context)
    except (OSError, ssl.SSLError):
        return False
    try:
        writer.write(mqtt_connect(client_id))
        await writer.drain()
        async with asyncio.timeout(within_s):
            answer = await reader.read(len(ACCEPTED))
    except (OSError, ssl.SSLError):
        return False
    finally:
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()
    assert answer in (b"", ACCEPTED), answer
    return answer == ACCEPTED
