"""The hub's certificate authority, and the device's half of enrolment (its key and its CSR).

Invariant 5 rests here: the broker takes a client's username from its certificate's CN
(``use_identity_as_username``) and its ACL binds ``sitegate/v1/up/<CN>/#`` to it, so whatever
this CA signs *is* the permission. Hence the rules it keeps:

- a device's private key never leaves the device: the device sends a CSR, the CA checks the
  CSR's signature (proof the requester holds the key) and that its CN is the device id it is
  enrolling, then signs a certificate whose subject it writes itself (nothing is copied from the
  CSR but the public key);
- device ids and the hub's identity live in disjoint namespaces (a device id is
  ``[a-z0-9][a-z0-9-]*``; the hub's name must not be one), so no device can ever be issued the
  name that the ACL gives the hub's rights to;
- keys are ECDSA P-256: small enough for a Pi's TLS handshakes, and supported by OpenSSL, mosquitto
  and Python's ``ssl`` alike;
- a private key is written with mode 0600 from its first byte, never chmod-ed down afterwards.

The certificate not-before dates are set an hour back: a Raspberry Pi has no RTC, and a clock a
little behind the hub's must not make a fresh certificate "not yet valid".
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import os
import re
import stat
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from wire.models import DEVICE_ID_PATTERN

HUB_IDENTITY = "sitegate.hub"
"""The CN of the hub's client certificate and the ACL's ``user`` line. The dot keeps it out of
the device-id namespace, so no device certificate can carry it."""

CA_CERT_NAME = "ca.crt"
CA_KEY_NAME = "ca.key"
CLOCK_SKEW = dt.timedelta(hours=1)
_DEVICE_ID = re.compile(DEVICE_ID_PATTERN)
_CURVE = ec.SECP256R1


class CaError(Exception):
    """Base of every error the CA and the enrolment helpers raise on purpose."""


class CaStateError(CaError):
    """The CA's directory is missing, already holds a CA, or holds one that is unsafe to use."""


class BadCsr(CaError):
    """A certificate signing request that cannot be used: not PEM, wrong key type, no single CN."""


class BadCsrSignature(BadCsr):
    """The CSR is not signed by the key it carries: the requester has not shown it holds the key."""


class IdentityMismatch(CaError):
    """The CSR's CN is not the device id being enrolled."""

    def __init__(self, device_id: str, csr_cn: str | None) -> None:
        self.device_id = device_id
        self.csr_cn = csr_cn
        super().__init__(f"the CSR is for {csr_cn!r}, not for device {device_id!r}; refusing to sign")


class InvalidIdentity(CaError):
    """A name that may not be certified in that role (a bad device id, or a hub name that is one)."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def is_device_id(name: str) -> bool:
    return _DEVICE_ID.match(name) is not None


def _require_device_id(device_id: str) -> None:
    if not is_device_id(device_id):
        raise InvalidIdentity(f"{device_id!r} is not a device id (2-63 of [a-z0-9-], alphanumeric first)")


# --- files --------------------------------------------------------------------------------------


def _write(path: Path, data: bytes, mode: int, *, overwrite: bool) -> None:
    """Write ``data`` so that ``path`` never exists half-written or with a wider mode than ``mode``.

    A temporary file in the same directory is created with O_EXCL and the final mode (mkstemp),
    filled, fsynced, then moved into place: ``os.replace`` when overwriting, ``os.link`` otherwise,
    which fails if ``path`` appeared meanwhile.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def write_key(path: Path, pem: bytes, *, overwrite: bool = False) -> None:
    """A private key, mode 0600 from creation. Refuses to replace an existing key unless asked:
    a key overwritten by mistake orphans the certificate issued for it."""
    _write(path, pem, 0o600, overwrite=overwrite)


def write_public(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """A certificate, CRL or config anyone may read (mosquitto reads them after dropping root)."""
    _write(path, data, mode, overwrite=True)


# --- the device's half --------------------------------------------------------------------------


def generate_key() -> bytes:
    """A new ECDSA P-256 private key as unencrypted PKCS#8 PEM (the file's mode protects it)."""
    key = ec.generate_private_key(_CURVE())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _load_key(pem: bytes) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as err:
        raise CaError(f"not a PEM private key without a password: {err}") from err
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, _CURVE):
        raise CaError("the private key must be ECDSA P-256")
    return key


def make_csr(device_id: str, key_pem: bytes) -> bytes:
    """The CSR a device sends to be enrolled: CN = its device id, signed by its own key."""
    _require_device_id(device_id)
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, device_id)]))
        .sign(_load_key(key_pem), hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM)


# --- the hub's CA -------------------------------------------------------------------------------


class CertificateAuthority:
    """A self-signed CA in a directory: ``ca.crt`` (0644) and ``ca.key`` (0600)."""

    def __init__(self, directory: Path, certificate: x509.Certificate, key: ec.EllipticCurvePrivateKey):
        self.directory = directory
        self.certificate = certificate
        self._key = key

    @property
    def cert_path(self) -> Path:
        return self.directory / CA_CERT_NAME

    @property
    def cert_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @classmethod
    def create(
        cls, directory: Path, name: str = "SiteGate hub CA", valid_days: int = 3650
    ) -> CertificateAuthority:
        """A new CA; refuses a directory that already holds one (replacing a CA strands every device)."""
        directory.mkdir(parents=True, exist_ok=True)
        if (directory / CA_KEY_NAME).exists() or (directory / CA_CERT_NAME).exists():
            raise CaStateError(f"{directory} already holds a CA; load it, or choose another directory")
        key = ec.generate_private_key(_CURVE())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = _now()
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - CLOCK_SKEW)
            .not_valid_after(now + dt.timedelta(days=valid_days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        key_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        write_key(directory / CA_KEY_NAME, key_pem)
        write_public(directory / CA_CERT_NAME, cert.public_bytes(serialization.Encoding.PEM))
        return cls(directory, cert, key)

    @classmethod
    def load(cls, directory: Path) -> CertificateAuthority:
        """The CA in ``directory``; refuses a key other users can read, or one not matching the cert."""
        key_path, cert_path = directory / CA_KEY_NAME, directory / CA_CERT_NAME
        try:
            mode = stat.S_IMODE(key_path.stat().st_mode)
            key_pem, cert_pem = key_path.read_bytes(), cert_path.read_bytes()
        except OSError as err:
            raise CaStateError(f"no CA in {directory}: {err.strerror} ({err.filename})") from err
        if mode & 0o077:
            raise CaStateError(f"{key_path} is readable by other users (mode {mode:04o}); chmod 600 it")
        key = _load_key(key_pem)
        try:
            cert = x509.load_pem_x509_certificate(cert_pem)
        except ValueError as err:
            raise CaStateError(f"{cert_path} is not a PEM certificate: {err}") from err
        if cert.public_key() != key.public_key():
            raise CaStateError(f"{key_path} is not the key of {cert_path}")
        return cls(directory, cert, key)

    def _leaf(
        self,
        subject_cn: str,
        public_key: ec.EllipticCurvePublicKey,
        usage: x509.ObjectIdentifier,
        valid_days: int,
        names: Sequence[x509.GeneralName] = (),
    ) -> x509.Certificate:
        now = _now()
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject_cn)]))
            .issuer_name(self.certificate.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - CLOCK_SKEW)
            .not_valid_after(now + dt.timedelta(days=valid_days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()), critical=False
            )
        )
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(list(names)), critical=False)
        return builder.sign(self._key, hashes.SHA256())

    def issue_client(self, csr_pem: bytes, device_id: str, valid_days: int = 825) -> bytes:
        """A device's client certificate (CN = device id, clientAuth) for the key in its CSR."""
        _require_device_id(device_id)
        try:
            csr = x509.load_pem_x509_csr(csr_pem)
        except ValueError as err:
            raise BadCsr(f"not a PEM certificate signing request: {err}") from err
        if not csr.is_signature_valid:
            raise BadCsrSignature("the CSR's signature does not verify with the key it carries")
        public_key = csr.public_key()
        if not isinstance(public_key, ec.EllipticCurvePublicKey) or not isinstance(public_key.curve, _CURVE):
            raise BadCsr("the CSR's key must be ECDSA P-256")
        names = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if len(names) != 1:
            raise BadCsr(f"the CSR must name exactly one CN, not {len(names)}")
        cn = names[0].value
        cn_text = cn if isinstance(cn, str) else None
        if cn_text != device_id:
            raise IdentityMismatch(device_id, cn_text)
        cert = self._leaf(device_id, public_key, ExtendedKeyUsageOID.CLIENT_AUTH, valid_days)
        return cert.public_bytes(serialization.Encoding.PEM)

    def issue_hub_identity(self, name: str = HUB_IDENTITY, valid_days: int = 825) -> tuple[bytes, bytes]:
        """The hub's client certificate and key: the identity the ACL's ``user`` line names.

        The key is made here rather than from a CSR because the hub runs next to its CA.
        """
        if is_device_id(name) or not name or any(c in name for c in "/+#\n\r"):
            raise InvalidIdentity(
                f"hub identity {name!r} must not be a possible device id (use a '.', e.g. {HUB_IDENTITY!r})"
            )
        key_pem = generate_key()
        key = _load_key(key_pem)
        cert = self._leaf(name, key.public_key(), ExtendedKeyUsageOID.CLIENT_AUTH, valid_days)
        return cert.public_bytes(serialization.Encoding.PEM), key_pem

    def issue_server(self, names: Iterable[str], valid_days: int = 825) -> tuple[bytes, bytes]:
        """The broker's certificate and key, valid for each host name or IP address in ``names``."""
        names = list(names)
        if not names:
            raise InvalidIdentity("a server certificate needs at least one host name or IP address")
        general: list[x509.GeneralName] = []
        for name in names:
            try:
                general.append(x509.IPAddress(ipaddress.ip_address(name)))
            except ValueError:
                general.append(x509.DNSName(name))
        key_pem = generate_key()
        key = _load_key(key_pem)
        cert = self._leaf(names[0], key.public_key(), ExtendedKeyUsageOID.SERVER_AUTH, valid_days, general)
        return cert.public_bytes(serialization.Encoding.PEM), key_pem

    def make_crl(self, revoked_serials: Iterable[int], valid_days: int = 30) -> bytes:
        """A CRL revoking ``revoked_serials``, for the broker's ``crlfile``.

        With a ``crlfile`` the broker refuses every client once the CRL's next-update date passes,
        so it must be re-issued well before ``valid_days`` run out. Which serials are revoked is
        the hub registry's record, not the CA's.
        """
        now = _now()
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.certificate.subject)
            .last_update(now - CLOCK_SKEW)
            .next_update(now + dt.timedelta(days=valid_days))
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()), critical=False
            )
        )
        for serial in sorted(set(revoked_serials)):
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(now).build()
            )
        return builder.sign(self._key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def serial_of(cert_pem: bytes) -> int:
    """The serial number of a PEM certificate (what the registry records, and revokes by)."""
    return x509.load_pem_x509_certificate(cert_pem).serial_number
