"""A JWT whose signing key has been chosen in a transaction, signed after it has ended."""

from __future__ import annotations

import dataclasses
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclasses.dataclass(frozen=True, slots=True)
class PendingJwt:
    """A JWT whose key has been chosen and not yet used: `sign()` needs no session and
    releases the GIL while OpenSSL signs (`core.offload.released`)."""

    payload: dict[str, Any]
    key: PrivateKey
    alg: str
    headers: dict[str, Any]

    @property
    def slow(self) -> bool:
        """An RSA signature (~1 ms of OpenSSL): worth a thread of its own beside other work
        (`core.offload.begun`); an ECDSA one (~30 µs) costs less than the hop."""
        return isinstance(self.key, rsa.RSAPrivateKey)

    def sign(self) -> str:
        return jwt.encode(self.payload, self.key, algorithm=self.alg, headers=self.headers)
