"""Subject identifiers (OIDC Core §8). Pairwise by default: each sector sees its own stable
`sub`, computed as HMAC(pairwise key, sector ‖ 0x00 ‖ account id) so no global identifier leaves
the service and sectors cannot correlate residents."""

from __future__ import annotations

import hashlib
import hmac

from core.tokens import b64url
from identity.oidc.models import Client


class SubjectIds:
    def __init__(self, pairwise_key: bytes) -> None:
        self._key = pairwise_key

    def pairwise(self, sector: str, account_id: str) -> str:
        mac = hmac.new(self._key, f"{sector}\x00{account_id}".encode(), hashlib.sha256)
        return b64url(mac.digest())

    def for_client(self, client: Client, account_id: str) -> str:
        if client.subject_type == "public":
            return account_id
        return self.pairwise(client.sector_identifier, account_id)
