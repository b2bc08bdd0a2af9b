"""The local file of the `kluis wallet` holder: credentials and their private keys as JSON,
readable by the owner only (mode 0600). The holder library never talks to Kluis's database:
this file is all it keeps."""

from __future__ import annotations

import json
import os
import secrets
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from attestations.sdjwt import HeldSdJwt

DEFAULT_STORE = Path.home() / ".kluis-wallet.json"


@dataclass
class StoredCredential:
    id: str
    issuer: str
    vct: str
    credential: str  # the SD-JWT as issued (every Disclosure)
    key_pem: str  # the holder's private key (PKCS#8 PEM)
    received_at: int

    @property
    def key(self) -> ec.EllipticCurvePrivateKey:
        key = serialization.load_pem_private_key(self.key_pem.encode(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return key

    @property
    def claims(self) -> dict[str, Any]:
        return dict(HeldSdJwt.parse(self.credential).claims)

    @classmethod
    def new(
        cls, issuer: str, credential: str, key: ec.EllipticCurvePrivateKey, now: int
    ) -> StoredCredential:
        vct = HeldSdJwt.parse(credential).claims.get("vct")
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        return cls(secrets.token_hex(8), issuer, str(vct), credential, pem, now)


class HolderStore:
    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> list[StoredCredential]:
        if not self.path.exists():
            return []
        data = json.loads(self.path.read_text())
        return [StoredCredential(**item) for item in data.get("credentials", [])]

    def save(self, credentials: list[StoredCredential]) -> None:
        """Write atomically (temporary file + rename), owner-only."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = json.dumps({"credentials": [asdict(c) for c in credentials]}, indent=2)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".kluis-wallet-")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(body)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def add(self, new: list[StoredCredential]) -> None:
        self.save([*self.load(), *new])
