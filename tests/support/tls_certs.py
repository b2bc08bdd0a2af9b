"""Throw-away certificates for tests of mutual TLS (`cryptography`): a CA, a server certificate
for 127.0.0.1 and a client certificate in the style of a PKIoverheid services certificate
(organisation and OIN in the subject), all written as PEM files into a test's directory, and
the server-side TLS context that demands a client certificate from that CA."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from adapters import ClientCertificate

OIN = "00000001001234567000"  # the shape of an OIN (organisation identification number)


@dataclass(frozen=True)
class Pki:
    ca_file: Path
    ca_key: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path

    @property
    def client(self) -> ClientCertificate:
        return ClientCertificate(self.client_cert, self.client_key)

    def server_context(self, client_ca: Path | None = None) -> ssl.SSLContext:
        """TLS for the test server: its certificate, and a client certificate required from
        `client_ca` (default: this PKI's CA)."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.server_cert, self.server_key)
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cafile=str(client_ca or self.ca_file))
        return context


def _name(common_name: str, organisation: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organisation is not None:
        attributes += [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, OIN),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "NL"),
        ]
    return x509.Name(attributes)


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def make_pki(
    directory: Path,
    *,
    client_not_before: dt.datetime | None = None,
    client_not_after: dt.datetime | None = None,
    client_name: str = "kluis.gemeente.test",
    signed_by: Pki | None = None,
) -> Pki:
    """A fresh CA in `directory` (or `signed_by`'s) with a server certificate (127.0.0.1,
    localhost) and a client certificate for `client_name` (valid from `client_not_before` to
    `client_not_after`, default: now for a day)."""
    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_name = _name("Kluis Test CA", "Kluis Test PKI")
    if signed_by is not None:
        ca = x509.load_pem_x509_certificate(signed_by.ca_file.read_bytes())
        loaded = serialization.load_pem_private_key(signed_by.ca_key.read_bytes(), None)
        assert isinstance(loaded, ec.EllipticCurvePrivateKey)
        ca_key = loaded
    else:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca = _self_signed(ca_name, ca_key, now)
    return _issued(directory, ca, ca_key, now, client_name, client_not_before, client_not_after)


def _self_signed(ca_name: x509.Name, ca_key: ec.EllipticCurvePrivateKey, now: dt.datetime) -> Any:
    return (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )


def _issued(
    directory: Path,
    ca: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    now: dt.datetime,
    client_name: str,
    client_not_before: dt.datetime | None,
    client_not_after: dt.datetime | None,
) -> Pki:
    ca_name = ca.subject

    def issue(
        stem: str,
        subject: x509.Name,
        usage: x509.ObjectIdentifier,
        not_before: dt.datetime,
        not_after: dt.datetime,
        names: list[x509.GeneralName],
    ) -> tuple[Path, Path]:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
            )
        )
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        certificate = builder.sign(ca_key, hashes.SHA256())
        cert_path, key_path = directory / f"{stem}.crt", directory / f"{stem}.key"
        # the chain as a PKIoverheid certificate comes: the leaf, then its issuer
        cert_path.write_bytes(
            certificate.public_bytes(serialization.Encoding.PEM)
            + ca.public_bytes(serialization.Encoding.PEM)
        )
        _write_key(key_path, key)
        return cert_path, key_path

    ca_file, ca_key_file = directory / "ca.crt", directory / "ca.key"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    _write_key(ca_key_file, ca_key)
    server_cert, server_key = issue(
        "server",
        _name("127.0.0.1"),
        ExtendedKeyUsageOID.SERVER_AUTH,
        now - dt.timedelta(minutes=5),
        now + dt.timedelta(days=1),
        [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")],
    )
    client_cert, client_key = issue(
        "client",
        _name(client_name, "Gemeente Test"),
        ExtendedKeyUsageOID.CLIENT_AUTH,
        client_not_before or now - dt.timedelta(minutes=5),
        client_not_after or now + dt.timedelta(days=1),
        [],
    )
    return Pki(ca_file, ca_key_file, server_cert, server_key, client_cert, client_key)
