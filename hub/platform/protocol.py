"""The platform's wire: signed form posts, and the answers they get.

Every call is a form POST of ``appid``, ``data`` (the request's JSON), ``format=json``,
``method``, ``nonce``, ``timestamp`` (``yyyyMMddHHmmss``, site time) and ``version``, plus
``sign``: the SHA-256 hex of those parameters sorted by name as ``k=v`` joined by ``&``, then
``&appsecret=…``, the whole lower-cased (ibisTime/xn-gchf ``gov/GovConnecter.java``; the national
attendance client signs the same way). The answer is JSON ``{"code", "message", "data"}``: code 0
with ``data.requestSerialCode`` for a write, which is only queued; the outcome comes from
``AsyncHandleResult.Query`` with that serial code: ``data.status`` 0 pending, 10 failed, 20
succeeded, ``data.result`` the platform's words (ibisTime/xn-gchf ``gov/GovUtil.java``,
``enums/EGovAsyncStatus.java``). The negative codes and their Chinese messages are the platform's
own (a Jinhua client's ``JinHuaConfig``), kept verbatim for display.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from wire.clock import SITE_ZONE

VERSION: Final = "1.0"
FORMAT: Final = "json"
TIMESTAMP_FORMAT: Final = "%Y%m%d%H%M%S"
DATE_TIME_FORMAT: Final = "%Y-%m-%d %H:%M:%S"
"""Of an attendance row's ``date`` (site time)."""
SIGNED: Final = ("appid", "data", "format", "method", "nonce", "timestamp", "version")


class Method(StrEnum):
    TEAM_ADD = "Team.Add"
    WORKER_ADD = "ProjectWorker.Add"
    ATTENDANCE_ADD = "WorkerAttendance.Add"
    QUERY = "AsyncHandleResult.Query"


OK: Final = 0
BAD_PARAMETERS: Final = -1
BAD_SIGNATURE: Final = -2
NO_PERMISSION: Final = -3
IP_REFUSED: Final = -4
RATE_LIMITED: Final = -5
CODE_MESSAGES: Final = {
    OK: "成功",
    BAD_PARAMETERS: "请求参数错误",
    BAD_SIGNATURE: "签名校验错误",
    NO_PERMISSION: "无API访问权限",
    IP_REFUSED: "IP校验错误",
    RATE_LIMITED: "访问超过限制",
}
"""The platform's codes in its own words (shown as they are, Chinese being what its users read)."""


class AsyncStatus(StrEnum):
    PENDING = "0"
    FAILED = "10"
    SUCCEEDED = "20"


class ProtocolError(ValueError):
    """An answer that is not the platform's JSON (a proxy's error page, a cut body)."""


def sign(params: Mapping[str, str], appsecret: str) -> str:
    """The ``sign`` of ``params`` (every one but ``sign`` itself, sorted by name)."""
    text = "&".join(f"{name}={params[name]}" for name in sorted(params) if name != "sign")
    return hashlib.sha256(f"{text}&appsecret={appsecret}".lower().encode("utf-8")).hexdigest()


def signature_holds(params: Mapping[str, str], appsecret: str) -> bool:
    """Whether ``params`` (a form as received) carry the ``sign`` of their signed parameters."""
    signed = {name: params[name] for name in SIGNED if name in params}
    return hmac.compare_digest(params.get("sign", ""), sign(signed, appsecret))


def data_text(data: Mapping[str, Any]) -> str:
    """The ``data`` parameter: compact JSON, Chinese as itself."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def signed_form(
    method: Method, data: Mapping[str, Any], *, appid: str, appsecret: str, now: datetime, nonce: str
) -> dict[str, str]:
    params = {
        "appid": appid,
        "data": data_text(data),
        "format": FORMAT,
        "method": method.value,
        "nonce": nonce,
        "timestamp": now.astimezone(SITE_ZONE).strftime(TIMESTAMP_FORMAT),
        "version": VERSION,
    }
    return {**params, "sign": sign(params, appsecret)}


@dataclass(frozen=True, slots=True)
class Answer:
    code: int
    message: str
    data: Mapping[str, Any]

    @property
    def ok(self) -> bool:
        return self.code == OK

    @property
    def serial_code(self) -> str | None:
        value = self.data.get("requestSerialCode")
        return str(value) if value not in (None, "") else None

    @property
    def shown(self) -> str:
        """The platform's words for a refusal, its code's name first when the message lacks it."""
        named = CODE_MESSAGES.get(self.code)
        if named and named not in self.message:
            return f"{named}: {self.message}" if self.message else named
        return self.message or f"code {self.code}"


def parse_answer(body: bytes | str) -> Answer:
    try:
        parsed = json.loads(body)
        code = int(parsed["code"])
    except (ValueError, KeyError, TypeError) as err:
        raise ProtocolError(f"not an answer of the platform: {err}") from None
    data = parsed.get("data")
    return Answer(code, str(parsed.get("message") or ""), data if isinstance(data, dict) else {})


@dataclass(frozen=True, slots=True)
class AsyncResult:
    status: AsyncStatus
    result: str
    """The platform's words: the failure's reason, or a success's details (``teamSysNo``)."""

    def team_sys_no(self) -> str | None:
        """What a succeeded ``Team.Add`` carries: ``{"teamSysNo": …}`` in its result."""
        try:
            value = json.loads(self.result).get("teamSysNo")
        except (ValueError, AttributeError):
            return None
        return str(value) if value not in (None, "") else None


def parse_async_result(answer: Answer) -> AsyncResult:
    status = str(answer.data.get("status", ""))
    try:
        parsed = AsyncStatus(status)
    except ValueError:
        raise ProtocolError(f"AsyncHandleResult.Query answered status {status!r}") from None
    return AsyncResult(parsed, str(answer.data.get("result") or ""))
