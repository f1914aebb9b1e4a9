"""The TLS context for the broker link: verify the broker against our CA, show our certificate.

Two copies of this function exist (``controller/tls.py``, ``hub/tls.py``) on purpose: the controller
and the hub never import each other, and ``wire`` stays free of I/O.
"""

from __future__ import annotations

import ssl
from pathlib import Path


def tls_context(ca_file: Path, cert_file: Path, key_file: Path) -> ssl.SSLContext:
    """Client context: TLS 1.2 or newer, the broker's certificate checked against ``ca_file`` and
    its host name, and this side's certificate (whose CN the broker's ACL uses as the username).

    Raises ``OSError`` for an unreadable file and ``ssl.SSLError`` for a bad one or a key that is
    not the certificate's."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(ca_file))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_file, key_file)
    return context
