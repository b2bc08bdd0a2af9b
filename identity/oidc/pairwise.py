"""Subject identifiers (OIDC Core §8). Pairwise by default: each sector sees its own stable
`sub`, computed as HMAC(pairwise key, sector ‖ 0x00 ‖ account id) so no global identifier leaves
the service and sectors cannot correlate residents."""

from __future__ import annotations

import hashlib
import hmac

from core import b64url
from identity.oidc.models import Client


class SubjectIds:
    def __init__(self, pairwise_key: bytes) -> None:
        self._key = pairwise_key

    def pairwise(self, sector: str, account_id: str) -> str:
        mac = hmac.new(self._key, f"{sector}\x00{account_id}".encode(), hashlib.sha256)
        return b64url(mac.digest())

    def session_for(self, client: Client, public_sid: str) -> str:
        """The `sid` a client sees (ID token, logout token): per sector like `sub`, so two
        platforms cannot link their residents through a shared session identifier."""
        mac = hmac.new(
            self._key, f"sid\x00{client.sector_identifier}\x00{public_sid}".encode(), hashlib.sha256
        )
        return b64url(mac.digest())

    def for_client(self, client: Client, account_id: str) -> str:
        if client.subject_type == "public":
            return account_id
        return self.pairwise(client.sector_identifier, account_id)
