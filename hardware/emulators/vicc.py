"""A virtual contactless card for pcscd's vpcd driver, so the PC/SC adapter runs against real pcscd.

vpcd listens on a TCP port per reader slot; a card is "inserted" by connecting to it and "removed"
by closing the socket. Each message is a 2-byte big-endian length and a payload: a 1-byte payload is
a control byte (power off/on, reset, or "send your ATR"), anything longer is a C-APDU to answer with
an R-APDU. Debian's ``vicc`` is broken as packaged, and the protocol is small enough to own.

``TCP_QUICKACK`` is re-armed after every ``recv``: vpcd sends length and body as two segments, and
with delayed ACKs each APDU would cost ≈45 ms instead of ≈0.1 ms.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from types import TracebackType
from typing import Final, Self

CTRL_OFF: Final = 0
CTRL_ON: Final = 1
CTRL_RESET: Final = 2
CTRL_ATR: Final = 4

GET_ID_CARD_SERIAL: Final = bytes.fromhex("0036000008")
GET_UID: Final = bytes.fromhex("FFCA000000")
OK: Final = b"\x90\x00"
INS_NOT_SUPPORTED: Final = b"\x6d\x00"
FUNCTION_NOT_SUPPORTED: Final = b"\x6a\x81"

PULL_CARD: Final = b""
"""An override answer meaning "the card leaves the field now": the socket closes, nothing is sent."""


def contactless_atr(historical: bytes) -> bytes:
    """The ATR a PC/SC reader builds for a contactless card (PC/SC part 3, 3.1.3.2.3), with its TCK."""
    body = bytes((0x80 | len(historical), 0x80, 0x01)) + historical
    tck = 0
    for byte in body:
        tck ^= byte
    return b"\x3b" + body + bytes((tck,))


ATR_ISO14443A: Final = contactless_atr(bytes.fromhex("804F0CA00000030603000100000000"))
"""A MIFARE Classic 1K as a PC/SC reader reports it."""
ATR_ISO14443B: Final = contactless_atr(bytes.fromhex("0000000000718100"))
"""A type B card (ATQB application data, protocol info, MBLI), shaped like the resident ID card's."""


class VirtualCard:
    """One card in one vpcd slot; ``with`` inserts it and removes it at the end.

    ``responses`` maps a whole C-APDU to the whole R-APDU (status word included) and wins over the
    built-in answers: use it for error status words, short answers, or :data:`PULL_CARD`. It may be
    changed while the card is inserted. ``apdus`` records every C-APDU received, in order.
    """

    def __init__(
        self,
        port: int,
        *,
        host: str = "127.0.0.1",
        atr: bytes = ATR_ISO14443A,
        uid: bytes | None = None,
        id_serial: bytes | None = None,
        responses: dict[bytes, bytes] | None = None,
    ) -> None:
        self.address = (host, port)
        self.atr = atr
        self.uid = uid
        self.id_serial = id_serial
        self.responses = dict(responses or {})
        self.apdus: list[bytes] = []
        self.powered = False
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Self:
        self.insert()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.remove()

    @property
    def inserted(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def insert(self) -> None:
        """Connect to vpcd: pcscd sees the card on its next slot poll (≈50 ms)."""
        if self.inserted:
            return
        self.remove()
        sock = socket.create_connection(self.address, timeout=2)
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock
        self._thread = threading.Thread(target=self._serve, args=(sock,), name="vicc", daemon=True)
        self._thread.start()

    def remove(self) -> None:
        """Close the socket: the card leaves the field (also mid-exchange, if that is the test)."""
        sock, self._sock = self._sock, None
        if sock is not None:
            _close(sock)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2)
        self._thread = None

    def answer(self, apdu: bytes) -> bytes:
        """The R-APDU for one C-APDU (:data:`PULL_CARD` to drop the connection instead)."""
        if apdu in self.responses:
            return self.responses[apdu]
        if apdu == GET_ID_CARD_SERIAL:
            return self.id_serial + OK if self.id_serial is not None else INS_NOT_SUPPORTED
        if apdu == GET_UID:
            return self.uid + OK if self.uid is not None else FUNCTION_NOT_SUPPORTED
        return INS_NOT_SUPPORTED

    def _serve(self, sock: socket.socket) -> None:
        try:
            while (payload := _receive(sock)) is not None:
                if len(payload) == 1:
                    self._control(sock, payload[0])
                    continue
                self.apdus.append(payload)
                reply = self.answer(payload)
                if reply == PULL_CARD:
                    break
                _send(sock, reply)
        except OSError:
            pass  # removed while serving: closing the socket is how a card leaves
        finally:
            _close(sock)

    def _control(self, sock: socket.socket, code: int) -> None:
        if code == CTRL_ATR:
            _send(sock, self.atr)
        elif code in (CTRL_ON, CTRL_RESET):
            self.powered = True
        elif code == CTRL_OFF:
            self.powered = False


def _receive(sock: socket.socket) -> bytes | None:
    header = _exactly(sock, 2)
    if header is None:
        return None
    (length,) = struct.unpack(">H", header)
    return _exactly(sock, length)


def _exactly(sock: socket.socket, n: int) -> bytes | None:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)  # Linux clears it after each ACK
        if not chunk:
            return None
        data += chunk
    return data


def _send(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(struct.pack(">H", len(payload)) + payload)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already shut by the other side
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
