"""Enrolment, the device's half: the key made here, the CSR sent with the token, the bundle
turned into the lane's files.

The private key is generated on the Pi, written 0600 before anything else, and never sent
anywhere: the hub sees the CSR only. The hub's answer carries the project's site key, so it is
fetched over HTTPS only (plain HTTP is accepted for a hub on the loopback interface, which is how
the demo and the tests run one hub and its lanes on one machine).

The configuration is rendered from the bundle and the site manager's choices (readers, board),
then validated with the controller's own parser before it is written: a lane is never left with
a file its controller would refuse.
"""

from __future__ import annotations

import ipaddress
import json
import re
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from controller.config import ControllerConfig, parse_config
from provisioning.ca import generate_key, make_csr
from provisioning.enrolment import EnrolmentBundle, EnrolmentRequest, LaneSettings
from provisioning.layout import CA_CERT, CONFIG, DATA_DIR, DEVICE_CERT, DEVICE_KEY, SITE_KEY, Writer

ENROL_PATH = "/api/v1/enrolments"
HTTP_TIMEOUT_S = 30.0


class EnrolmentFailed(Exception):
    """The enrolment did not happen; ``fix`` says what the site manager can do about it."""

    def __init__(self, message: str, fix: str) -> None:
        self.message = message
        self.fix = fix
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class LaneChoices:
    """What the site manager decides on the Pi (the hub decides the rest)."""

    id_module: str | None = "/dev/sitegate-idmodule"
    pcsc: str | None = None
    """A PC/SC reader: a name prefix, or "" for the first reader; None for none."""
    board: str = "rpi4"
    mock_pins: bool = False


def hub_url_problem(url: str) -> str | None:
    """Why ``url`` may not be used to fetch a site key, or None."""
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme == "https" and parsed.hostname:
        return None
    if parsed.scheme == "http" and parsed.hostname:
        try:
            if ipaddress.ip_address(parsed.hostname).is_loopback:
                return None
        except ValueError:
            if parsed.hostname == "localhost":
                return None
        return f"{url} is plain HTTP: the hub's answer holds the site key, so use https://"
    return f"{url!r} is not an http(s) URL of a hub"


_NOT_THE_BASE = re.compile(r"/(console|api)(/.*)?$")


def hub_base(url: str) -> str:
    """The hub's base address from what a site manager pastes: the console's address bar
    (``https://hub/console/devices?...``) or an API URL works as well as ``https://hub``."""
    parsed = urllib.parse.urlsplit(url.strip())
    path = _NOT_THE_BASE.sub("", parsed.path).rstrip("/")
    return urllib.parse.urlunsplit((parsed.scheme, parsed.netloc, path, "", ""))


def ensure_key(writer: Writer) -> tuple[bytes, bool]:
    """The device's private key: the one already there, else a new one (True) written 0600."""
    path = writer.path(DEVICE_KEY)
    if path.exists():
        return path.read_bytes(), False
    key_pem = generate_key()
    writer.write(DEVICE_KEY, key_pem, private=True)
    return key_pem, True


def enrolled_as(writer: Writer, key_pem: bytes) -> str | None:
    """The device id of the certificate already installed, if it is for this key and a config exists."""
    cert_path, config_path = writer.path(DEVICE_CERT), writer.path(CONFIG)
    if not (cert_path.is_file() and config_path.is_file()):
        return None
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    key = serialization.load_pem_private_key(key_pem, password=None)
    if cert.public_key() != key.public_key():
        return None
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else None


def request_enrolment(
    hub_url: str, token: str, device_id: str, key_pem: bytes, *, hub_ca: Path | None = None
) -> EnrolmentBundle:
    """POST the CSR and the token; the bundle, or EnrolmentFailed with the hub's own words."""
    problem = hub_url_problem(hub_url)
    if problem:
        raise EnrolmentFailed(problem, "give the hub's https:// address (--hub)")
    base = hub_base(hub_url)
    body = EnrolmentRequest(token=token, csr=make_csr(device_id, key_pem).decode("ascii"))
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above: http(s) only
        base + ENROL_PATH,
        data=body.model_dump_json().encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    context = ssl.create_default_context(cafile=str(hub_ca) if hub_ca else None)
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S, context=context) as response:  # noqa: S310
            if not _is_json(response.headers.get_content_type()):
                raise _web_page(base, response.headers.get_content_type())
            return EnrolmentBundle.model_validate_json(response.read())
    except urllib.error.HTTPError as err:
        if not _is_json(err.headers.get_content_type()):
            raise _web_page(base, err.headers.get_content_type(), f"HTTP {err.code} {err.reason}") from None
        try:
            error = json.loads(err.read())["error"]
            code, message = error["code"], error["message"]
        except (ValueError, KeyError, TypeError):
            code, message = "http_error", f"HTTP {err.code} {err.reason}"
        refused = f"the hub refused the enrolment ({code}): {message}"
        raise EnrolmentFailed(refused, _FIXES.get(code, "")) from None
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", err)
        raise EnrolmentFailed(
            f"cannot reach the hub at {hub_url}: {reason}",
            "check the network, the hub's address, and (for a private CA) --hub-ca",
        ) from None
    except ValueError as err:  # pydantic's errors quote the input: name the fields only
        fields = sorted({".".join(map(str, e["loc"])) for e in getattr(err, "errors", list)() if e["loc"]})
        what = f" (wrong or missing: {', '.join(fields)})" if fields else ""
        not_a_bundle = f"{base} answered, but not with an enrolment bundle{what}"
        raise EnrolmentFailed(
            not_a_bundle, "check the --hub address, and that the hub is a SiteGate hub"
        ) from None


def _is_json(content_type: str) -> bool:
    return content_type == "application/json" or content_type.endswith("+json")


def _web_page(base: str, content_type: str, status: str = "") -> EnrolmentFailed:
    """What a site manager is told when the address is a web page (a console, a proxy's error page,
    a captive portal), never the page itself."""
    answered = f"{status}, " if status else ""
    return EnrolmentFailed(
        f"{base} answered with a web page ({answered}{content_type}), not the hub's enrolment API",
        "give the hub's own address, e.g. https://hub.example.gov.cn, as the hub's operator gave it "
        "(not a console page; a console address is trimmed to it); behind a proxy, ask for its address",
    )


_FIXES = {
    "token_used": "ask the project's account for a new token (a token enrols once)",
    "token_expired": "ask the project's account for a new token",
    "token_unknown": "check the token as the hub showed it, or ask for a new one",
    "token_malformed": "copy the whole token: '<device id>.<secret>'",
    "csr_refused": "run sitegate provision again; if it repeats, report it",
    "enrolment_unavailable": "the hub has no CA set up: tell the hub's operator",
}


def _toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string


def _mode_lines(lane: LaneSettings) -> list[str]:
    """The gate's kind as the registry placed it: a turnstile lane's direction, or the site
    office's reader (``mode = "registration"``), whose ``direction`` only satisfies the parser:
    it passes nobody."""
    if lane.mode == "registration":
        return [
            'mode = "registration"',
            'direction = "in"  # unused: an office reader reads cards for 进场/离场登记 and passes nobody',
        ]
    assert lane.direction is not None  # LaneSettings: an access lane has its direction
    return [f'direction = "{lane.direction.value}"']


def config_text(bundle: EnrolmentBundle, choices: LaneChoices) -> str:
    """The lane's controller.toml (run-time paths), checked by the controller's parser."""
    lane = bundle.lane
    lines = [
        "# Written by sitegate provision from the hub's enrolment answer; re-run it rather than",
        "# editing by hand (readers and board are the site manager's choices, see --help).",
        f"device_id = {_toml_string(lane.device_id)}",
        f"project_id = {_toml_string(lane.project_id)}",
        f"lane = {_toml_string(lane.lane)}",
        *_mode_lines(lane),
        f'data_dir = "{DATA_DIR}"',
        f'site_key_file = "{SITE_KEY}"',
        f"board = {_toml_string(choices.board)}",
        f'pin_factory = "{"mock" if choices.mock_pins else "default"}"',
        f"roster_public_key = {_toml_string(bundle.roster_public_key)}",
        "",
    ]
    if choices.id_module is not None:
        lines += ["[readers.id_module]", f"port = {_toml_string(choices.id_module)}", ""]
    if choices.pcsc is not None:
        named = [f"reader = {_toml_string(choices.pcsc)}"] if choices.pcsc else []
        lines += ["[readers.pcsc]", *named, ""]
    lines += [
        "[mqtt]",
        f"host = {_toml_string(bundle.broker.host)}",
        f"port = {bundle.broker.port}",
        f'ca_file = "{CA_CERT}"',
        f'cert_file = "{DEVICE_CERT}"',
        f'key_file = "{DEVICE_KEY}"',
        "",
    ]
    text = "\n".join(lines)
    parse_config(text, str(CONFIG))  # raises ConfigError naming the key
    return text


def install_bundle(writer: Writer, bundle: EnrolmentBundle, choices: LaneChoices) -> ControllerConfig:
    """Certificates, site key and configuration written; the configuration (run-time paths)."""
    text = config_text(bundle, choices)
    writer.write(CA_CERT, bundle.ca_certificate.encode("ascii"))
    writer.write(DEVICE_CERT, bundle.certificate.encode("ascii"))
    writer.write(SITE_KEY, (bundle.site_key + "\n").encode("ascii"), private=True)
    writer.mkdir(DATA_DIR, service_owned=True)
    writer.write(CONFIG, text.encode("utf-8"))
    return parse_config(text, str(CONFIG))
