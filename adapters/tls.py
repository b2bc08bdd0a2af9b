"""TLS to the outside systems that ask for more than a server certificate: the BRP API, reached
over mutual TLS with a PKIoverheid client certificate, and a DigiD broker that authenticates
Kluis's client by its certificate (RFC 8705 §2, `tls_client_auth`).

`client_tls` builds the `ssl.SSLContext` an `httpx.Client` is given (`verify=`): the server is
checked against the configured CA bundle (a PKIoverheid root, say) or, without one, the
system's; the client presents its certificate chain when one is configured. Everything is read
and checked once, at start, so a wrong file is a clear configuration error and not a failed
handshake at a resident's first login. Messages name the file's role and path, never its
contents; the key is never logged.
"""

from __future__ import annotations

import datetime as dt
import logging
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

log = logging.getLogger("kluis.tls")


class TlsConfigError(ValueError):
    """A certificate, key or CA file that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class ClientCertificate:
    """PEM files: the client certificate (leaf first, then intermediates) and its key."""

    cert_file: Path
    key_file: Path


def tls_failure(exc: BaseException) -> bool:
    """Whether a transport error came from TLS (a refused or missing client certificate, a
    server certificate the CA bundle does not vouch for), for the operator's message."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _readable(path: Path, role: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise TlsConfigError(f"{role} {path} cannot be read ({exc.strerror or exc})") from None


def _leaf(cert_file: Path, now: dt.datetime) -> x509.Certificate:
    """The first certificate of the chain file, valid now."""
    data = _readable(cert_file, "client certificate")
    try:
        chain = x509.load_pem_x509_certificates(data)
    except ValueError:
        raise TlsConfigError(f"client certificate {cert_file} holds no PEM certificate") from None
    leaf = chain[0]
    if now < leaf.not_valid_before_utc:
        since = leaf.not_valid_before_utc
        raise TlsConfigError(f"client certificate {cert_file} is valid only from {since:%Y-%m-%d}")
    if now > leaf.not_valid_after_utc:
        raise TlsConfigError(
            f"client certificate {cert_file} expired on {leaf.not_valid_after_utc:%Y-%m-%d}"
        )
    return leaf


def client_tls(
    client: ClientCertificate | None = None,
    ca_file: Path | None = None,
    *,
    what: str = "server",
    now: dt.datetime | None = None,
) -> ssl.SSLContext:
    """The TLS context for one outside system (`what`, for the log): TLS 1.2 or newer, the
    server verified (host name included) against `ca_file` alone when given, else against the
    system's CAs, and `client`'s certificate presented when given."""
    if ca_file is not None:
        _readable(ca_file, "CA bundle")
        try:
            context = ssl.create_default_context(cafile=str(ca_file))
        except ssl.SSLError:
            raise TlsConfigError(f"CA bundle {ca_file} holds no usable PEM certificate") from None
    else:
        context = ssl.create_default_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if client is None:
        return context
    leaf = _leaf(client.cert_file, now or dt.datetime.now(dt.UTC))
    _readable(client.key_file, "client key")
    try:
        # an empty password, not a prompt on the terminal, for an encrypted key
        context.load_cert_chain(str(client.cert_file), str(client.key_file), password=b"")
    except ssl.SSLError as exc:
        reason = "does not belong to the certificate" if "MISMATCH" in str(exc) else "unreadable"
        raise TlsConfigError(
            f"client key {client.key_file} {reason} (an unencrypted PEM key is needed)"
        ) from None
    log.info(
        "client certificate loaded for mutual TLS",
        extra={"to": what, "valid_until": leaf.not_valid_after_utc.date().isoformat()},
    )
    return context
