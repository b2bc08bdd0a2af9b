"""The holder's check of an `x509_san_dns:` request object (OpenID4VP 1.0 §5.9.3): the leaf
certificate of the `x5c` chain (RFC 7515 §4.1.6) must carry the Client Identifier's DNS name as
a dNSName SAN, and the chain must lead to one of the holder's trust anchors (RFC 5280 path
validation with the Web PKI profile: validity, constraints, key usage, server-auth EKU). The
caller then verifies the request object's signature with the leaf key returned here.

Without trust anchors the chain proves nothing (anyone can make a certificate naming any
host), so the request is refused unless the user explicitly skips the chain check.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError


class ChainRefused(Exception):
    """The request object's certificate chain cannot be trusted; the message says why."""


def load_trust_anchors(paths: Sequence[Path]) -> list[x509.Certificate]:
    """Every certificate in the given PEM files (a file may hold several)."""
    anchors: list[x509.Certificate] = []
    for path in paths:
        try:
            anchors.extend(x509.load_pem_x509_certificates(path.read_bytes()))
        except (OSError, ValueError) as exc:
            raise ChainRefused(f"cannot read trust anchor {path}: {exc}") from exc
    return anchors


def _chain(x5c: object) -> list[x509.Certificate]:
    if not isinstance(x5c, list) or not x5c or not all(isinstance(c, str) for c in x5c):
        raise ChainRefused("x5c must be a non-empty list of certificates")
    try:
        return [x509.load_der_x509_certificate(base64.b64decode(c, validate=True)) for c in x5c]
    except (ValueError, binascii.Error) as exc:
        raise ChainRefused(f"x5c holds an unreadable certificate: {exc}") from exc


def _names(leaf: x509.Certificate) -> list[str]:
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return [str(n) for n in san.value.get_values_for_type(x509.DNSName)]


def request_key(
    x5c: object,
    dns_name: str,
    anchors: Sequence[x509.Certificate],
    *,
    skip_chain: bool = False,
) -> ec.EllipticCurvePublicKey:
    """The leaf's public key, after the checks above. `skip_chain` (only with no anchors)
    keeps the name check and drops the chain check: for development only."""
    chain = _chain(x5c)
    leaf = chain[0]
    if dns_name not in _names(leaf):
        raise ChainRefused("the certificate does not name the client identifier")
    if anchors:
        verifier = (
            PolicyBuilder()
            .store(Store(list(anchors)))
            .build_server_verifier(x509.DNSName(dns_name))
        )
        try:
            verifier.verify(leaf, chain[1:])
        except VerificationError as exc:
            reason = f"the certificate chain does not lead to a trust anchor: {exc}"
            raise ChainRefused(reason) from exc
    elif not skip_chain:
        raise ChainRefused(
            "an x509_san_dns: request needs a trust anchor to check its certificate chain "
            "(--trust-anchor PEM); refusing. --insecure-skip-chain accepts any chain naming "
            "the host (development only)"
        )
    key = leaf.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ChainRefused("the request object's certificate must hold a P-256 key")
    return key
