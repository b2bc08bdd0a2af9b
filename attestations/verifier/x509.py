"""The verifier's X.509 identity for the `x509_san_dns:` Client Identifier prefix
(OpenID4VP 1.0 §5.9.3): a P-256 key and its certificate chain, and a development CA.

§5.9.3 asks that the Client Identifier be a DNS name that matches a dNSName Subject
Alternative Name of the leaf certificate, that the request object be signed with the leaf's
key, and that the chain travel in the `x5c` JOSE header (RFC 7515 §4.1.6: standard base64 DER,
leaf first). The trust anchor itself is left out of `x5c`: the wallet has it already.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEV_CA_NAME = "Kluis DEVELOPMENT verifier CA - NOT FOR PRODUCTION"
DEV_VALIDITY = dt.timedelta(days=90)


class X509ConfigError(Exception):
    """The configured key or chain cannot be used; the message says why."""


@dataclass(frozen=True)
class RequestSigner:
    key: ec.EllipticCurvePrivateKey
    chain: tuple[x509.Certificate, ...]  # leaf first, without the trust anchor
    dns_name: str

    @property
    def x5c(self) -> list[str]:
        return [
            base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode()
            for c in self.chain
        ]


def dns_names(certificate: x509.Certificate) -> list[str]:
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return [str(name) for name in san.value.get_values_for_type(x509.DNSName)]


def _self_signed(certificate: x509.Certificate) -> bool:
    return certificate.issuer == certificate.subject


def load_request_signer(key_file: Path, chain_file: Path, issuer: str) -> RequestSigner:
    """Load and check the configured key and chain against the issuer URL's host (which is
    the host of the response URI, so §5.9.3's FQDN rule holds by construction)."""
    try:
        key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
        chain = x509.load_pem_x509_certificates(chain_file.read_bytes())
    except (OSError, ValueError) as exc:
        raise X509ConfigError(f"cannot read the verifier key or chain: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise X509ConfigError("the verifier key must be an EC P-256 key (ES256)")
    leaf = chain[0]
    if leaf.public_key() != key.public_key():
        raise X509ConfigError("the first certificate of the chain is not the key's certificate")
    host = urlsplit(issuer).hostname or ""
    if host not in dns_names(leaf):
        raise X509ConfigError(
            f"the leaf certificate has no dNSName SAN {host!r} (the host of KLUIS_ISSUER)"
        )
    now = dt.datetime.now(dt.UTC)
    if not leaf.not_valid_before_utc <= now < leaf.not_valid_after_utc:
        raise X509ConfigError("the leaf certificate is not valid now")
    presented = tuple(c for c in chain if not _self_signed(c)) or (leaf,)
    return RequestSigner(key, presented, host)


@functools.lru_cache(maxsize=4)
def _cached(key_file: str, chain_file: str, issuer: str, stamp: tuple[int, int]) -> RequestSigner:
    return load_request_signer(Path(key_file), Path(chain_file), issuer)


def request_signer(key_file: Path, chain_file: Path, issuer: str) -> RequestSigner:
    """`load_request_signer`, read again only when a file changes (certificate renewal)."""
    stamp = (os.stat(key_file).st_mtime_ns, os.stat(chain_file).st_mtime_ns)
    return _cached(str(key_file), str(chain_file), issuer, stamp)


# --- development CA ------------------------------------------------------------------------


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def _builder(
    subject: x509.Name, issuer: x509.Name, public: ec.EllipticCurvePublicKey
) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + DEV_VALIDITY)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
    )


def make_development_ca(
    dns_name: str,
) -> tuple[x509.Certificate, x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A throw-away CA and a leaf for `dns_name`: (CA certificate, leaf, leaf key)."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, DEV_CA_NAME)])
    ca = (
        _builder(ca_name, ca_name, ca_key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{dns_name} (development)")])
    aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key())
    leaf = (
        _builder(leaf_name, ca_name, leaf_key.public_key())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(dns_name)]), critical=False)
        .add_extension(aki, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return ca, leaf, leaf_key


def write_development_ca(out: Path, dns_name: str) -> dict[str, Path]:
    """Write `ca.pem` (the trust anchor wallets need), `verifier-chain.pem` and
    `verifier-key.pem` (mode 0600) into `out`. The CA key is not kept."""
    ca, leaf, key = make_development_ca(dns_name)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "ca": out / "ca.pem",
        "chain": out / "verifier-chain.pem",
        "key": out / "verifier-key.pem",
    }
    paths["ca"].write_bytes(_pem(ca))
    paths["chain"].write_bytes(_pem(leaf))
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(paths["key"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key_pem)
    return paths
