"""The platform's wire (hub.platform.protocol) and the ID numbers' cipher (hub.platform.cipher)."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime

import pytest

from hub.platform.cipher import CipherError, decrypt_id, encrypt_id
from hub.platform.protocol import (
    RATE_LIMITED,
    AsyncStatus,
    Method,
    ProtocolError,
    parse_answer,
    parse_async_result,
    sign,
    signature_holds,
    signed_form,
)
from wire.idnumber import with_check_digit

SECRET = "24484b262dd63dd584902a266bdbdca0"  # 32 characters: AES-256, as the clients' example
NUMBER = with_check_digit("33010619900101002")  # synthetic


def test_the_sign_is_sha256_of_the_sorted_lower_cased_parameters_and_the_appsecret() -> None:
    params = {"version": "1.0", "appid": "AppX", "method": "Team.Add", "data": '{"A":1}'}
    by_hand = 'appid=appx&data={"a":1}&method=team.add&version=1.0&appsecret=' + SECRET
    assert sign(params, SECRET) == hashlib.sha256(by_hand.encode()).hexdigest()


def test_a_signed_form_carries_every_parameter_and_its_sign_holds_until_one_changes() -> None:
    now = datetime(2026, 5, 1, 1, 2, 3, tzinfo=UTC)
    form = signed_form(Method.ATTENDANCE_ADD, {"projectCode": "P1", "名": "张三"}, appid="A1",
                       appsecret=SECRET, now=now, nonce="n0")  # fmt: skip
    assert form["timestamp"] == "20260501090203"  # site time, yyyyMMddHHmmss
    assert (form["format"], form["version"], form["method"]) == ("json", "1.0", "WorkerAttendance.Add")
    assert json.loads(form["data"]) == {"projectCode": "P1", "名": "张三"} and "张三" in form["data"]
    assert signature_holds(form, SECRET)
    assert not signature_holds({**form, "data": form["data"].replace("P1", "P2")}, SECRET)
    assert not signature_holds(form, SECRET[::-1])


def test_answers_and_async_results_are_read_as_the_platform_writes_them() -> None:
    taken = parse_answer('{"code": 0, "message": "成功", "data": {"requestSerialCode": "s-1"}}')
    assert taken.ok and taken.serial_code == "s-1"
    limited = parse_answer(json.dumps({"code": -5, "message": "", "data": None}))
    assert (limited.code, limited.shown, limited.serial_code) == (RATE_LIMITED, "访问超过限制", None)
    refused = parse_answer(json.dumps({"code": -1, "message": "[date]不能大于当天!"}))
    assert refused.shown == "请求参数错误: [date]不能大于当天!"  # the platform's words, verbatim
    done = parse_async_result(
        parse_answer('{"code":0,"data":{"status":"20","result":"{\\"teamSysNo\\":1001}"}}')
    )
    assert (done.status, done.team_sys_no()) == (AsyncStatus.SUCCEEDED, "1001")
    assert parse_async_result(parse_answer('{"code":0,"data":{"status":"0"}}')).status is AsyncStatus.PENDING
    with pytest.raises(ProtocolError):
        parse_answer("<html>502 Bad Gateway</html>")
    with pytest.raises(ProtocolError):
        parse_async_result(parse_answer('{"code":0,"data":{"status":"5"}}'))


def test_id_numbers_are_aes_cbc_pkcs7_under_the_appsecret_with_its_first_16_bytes_as_iv() -> None:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    text = encrypt_id(NUMBER, SECRET)
    raw = base64.b64decode(text)
    assert len(raw) == 32  # 18 bytes padded to two blocks
    decryptor = Cipher(algorithms.AES(SECRET.encode()), modes.CBC(SECRET[:16].encode())).decryptor()
    padded = decryptor.update(raw) + decryptor.finalize()
    assert padded == NUMBER.encode() + bytes([14]) * 14  # PKCS7
    assert encrypt_id(NUMBER, SECRET) == text  # deterministic: the platform matches people by it
    assert decrypt_id(text, SECRET) == NUMBER
    with pytest.raises(CipherError):
        decrypt_id(text, "0" * 32)
    with pytest.raises(ValueError, match="appsecret"):
        encrypt_id(NUMBER, "short")
