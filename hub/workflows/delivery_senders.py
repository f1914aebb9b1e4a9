"""How one alert leaves the building: a webhook's POST, an e-mail through SMTP. Each raises
:class:`DeliveryFailed` with a short reason (no personal data: it is logged and kept) when the
other side did not take it, so the delivery is tried again later."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Final

import aiohttp

from hub.workflows.delivery_settings import SmtpSettings

SIGNATURE_HEADER: Final = "X-SiteGate-Signature"
WEBHOOK_TIMEOUT_S: Final = 15.0

KIND_WORDS: Final = {
    "watchlist_hit": "禁入人员刷卡",
    "order_overdue": "整改逾期",
    "gate_offline": "闸机离线",
}
"""The e-mail's words for each kind (the console's labels.ALERT_KIND, which the workflows may not import)."""


class DeliveryFailed(Exception):
    """The target did not take the alert; ``reason`` says why, without personal data."""


def body_of(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def signature(secret: bytes, body: bytes) -> str:
    """``sha256=<hex>`` of the body under ``secret``: the receiver recomputes it to trust the POST."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


async def post_webhook(
    session: aiohttp.ClientSession, url: str, payload: dict[str, Any], secret: bytes | None
) -> None:
    body = body_of(payload)
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if secret is not None:
        headers[SIGNATURE_HEADER] = signature(secret, body)
    try:
        async with session.post(
            url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=WEBHOOK_TIMEOUT_S)
        ) as response:
            if not 200 <= response.status < 300:
                raise DeliveryFailed(f"HTTP {response.status}")
    except (aiohttp.ClientError, TimeoutError) as err:
        raise DeliveryFailed(f"{type(err).__name__}: {err}"[:300]) from err


def email_of(payload: dict[str, Any], *, sender: str, to: str) -> EmailMessage:
    """A plain-text e-mail in Chinese: what happened, where, when; the person's name for a
    watchlist hit (the authority it goes to may act on it), never an ID number."""
    kind = KIND_WORDS.get(str(payload["kind"]), str(payload["kind"]))
    where = payload.get("project_name") or payload.get("project_id") or "—"
    message = EmailMessage()
    message["Subject"] = f"【实名制预警】{kind}：{where}"
    message["From"] = sender
    message["To"] = to
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1])
    lines = [
        f"预警类型：{kind}",
        f"项目：{where}",
        f"时间：{payload.get('at_local') or '—'}",
    ]
    if payload.get("name"):
        lines.append(f"人员：{payload['name']}")
    lines += [f"说明：{payload.get('message', '')}", "", "此邮件由实名制系统（SiteGate）自动发送，请勿回复。"]
    message.set_content("\n".join(lines), charset="utf-8")
    return message


async def send_email(settings: SmtpSettings, message: EmailMessage, password: str | None) -> None:
    """Through the configured SMTP server, in a thread (smtplib blocks)."""

    def send() -> None:
        with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_s) as smtp:
            if settings.starttls:
                smtp.starttls()
            if settings.username and password is not None:
                smtp.login(settings.username, password)
            smtp.send_message(message)

    try:
        await asyncio.to_thread(send)
    except (smtplib.SMTPException, OSError) as err:
        raise DeliveryFailed(f"{type(err).__name__}: {err}"[:300]) from err
