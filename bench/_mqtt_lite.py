"""aiomqtt's client with less work per message and per second, for the thousands of lanes one
bench/city.py simulator process runs on one asyncio loop (issue 16).

The wire is unchanged: the same paho client builds and parses every packet (CONNECT with its will,
SUBSCRIBE, PUBLISH, PUBACK, PINGREQ), over the lane's own TLS connection. What is lighter is
aiomqtt's housekeeping around it, which at 1,000 lanes cost the simulator more than the packets:

- A write: aiomqtt registers the socket's writer through ``call_soon_threadsafe`` (a byte through
  the loop's self-pipe) for every publish, and the writer is added to and removed from epoll each
  time. Here a publish made on the loop's own thread writes on the loop's next turn; the writer is
  registered only when the socket would block (connecting, in paho's executor thread, as before).
- Keep-alive: aiomqtt runs paho's ``loop_misc`` in a task of each client every second. Paho sends
  PINGREQ once ``keepalive`` has passed without traffic and the broker drops a client silent for
  1.5 × ``keepalive``; a check every quarter of the keep-alive sends the ping at most a quarter
  late, well inside the broker's allowance (``misc_every_s``).
- A publish's wait: aiomqtt wraps every publish's confirmation in ``asyncio.wait_for`` (a task
  and a timer each). ``publish_nowait`` returns the PUBACK's future instead (none for QoS 0,
  which is done once written), and ``publish_window`` waits for a window of them under one
  timeout of the client's ``timeout``, the bound aiomqtt puts on each.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import aiomqtt
import paho.mqtt.client as mqtt
from aiomqtt.exceptions import MqttCodeError


def misc_every_s(keepalive_s: float) -> float:
    """How often paho's keep-alive check runs: a quarter of the keep-alive (never more than once a
    second, as aiomqtt does): a PINGREQ is then sent by 1.25 × ``keepalive``, before the broker's
    1.5 × ``keepalive`` ends the connection."""
    return max(1.0, keepalive_s / 4)


class LiteClient(aiomqtt.Client):
    """An ``aiomqtt.Client`` for one of many lanes on one loop (module docstring: what is lighter)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._misc_every_s = misc_every_s(self._keepalive)
        self._acks: dict[int, asyncio.Future[None]] = {}

    # -- writes -----------------------------------------------------------------------------------

    def _on_socket_register_write(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        if not _on_loop(self._loop):
            super()._on_socket_register_write(client, userdata, sock)  # paho's connect, in a thread
            return
        self._loop.call_soon(self._write_now, client, sock)

    def _write_now(self, client: mqtt.Client, sock: Any) -> None:
        if not self._write_ready(client):
            return
        current = client.socket()
        if client.want_write() and current is not None and current is sock:
            # The socket would block: wait for it as aiomqtt does (paho thinks it is registered
            # already, so it will not ask again; its writer's callback unregisters when done).
            self._loop.add_writer(current.fileno(), self._write_ready, client)

    def _write_ready(self, client: mqtt.Client) -> bool:
        """What paho has queued, written as far as the socket takes it; False if the socket broke."""
        try:
            client.loop_write()
        except Exception as exc:  # as aiomqtt's writer: a broken socket ends the connection
            if not self._disconnected.done():
                self._disconnected.set_exception(exc)
            return False
        return True

    # -- keep-alive -------------------------------------------------------------------------------

    async def _misc_loop(self) -> None:
        while self._client.loop_misc() == mqtt.MQTT_ERR_SUCCESS:  # noqa: ASYNC110 (a timer, not a wait)
            await asyncio.sleep(self._misc_every_s)

    # -- publishes --------------------------------------------------------------------------------

    def publish_nowait(self, topic: str, payload: bytes, qos: int) -> asyncio.Future[None] | None:
        """Queue one PUBLISH; for QoS 1 the future its PUBACK completes (None for QoS 0)."""
        info = self._client.publish(topic, payload, qos)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            if self._disconnected.done() and self._disconnected.exception():
                raise MqttCodeError(info.rc, "Could not publish message") from self._disconnected.exception()
            raise MqttCodeError(info.rc, "Could not publish message")
        if qos == 0:
            return None
        acked: asyncio.Future[None] = self._loop.create_future()
        self._acks[info.mid] = acked
        return acked

    async def publish_window(self, topic: str, payloads: list[bytes]) -> None:
        """QoS 1 publishes of ``payloads`` in order, returning once every one is acknowledged;
        ``MqttError`` if that takes longer than the client's ``timeout``."""
        futures = [self.publish_nowait(topic, payload, 1) for payload in payloads]
        try:
            async with asyncio.timeout(self.timeout):
                await asyncio.gather(*(f for f in futures if f is not None))
        except TimeoutError:
            raise aiomqtt.MqttError("Operation timed out") from None
        finally:
            for future in futures:
                if future is not None and not future.done():
                    future.cancel()

    def _on_publish(
        self,
        client: mqtt.Client,
        userdata: Any,
        mid: int,
        reason_code: Any,
        properties: Any,
    ) -> None:
        acked = self._acks.pop(mid, None)
        if acked is None:
            super()._on_publish(client, userdata, mid, reason_code, properties)
        elif not acked.done():
            acked.set_result(None)


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    with contextlib.suppress(RuntimeError):
        return asyncio.get_running_loop() is loop
    return False
