"""Subject identifiers (OIDC Core §8). Pairwise by default: each sector sees its own stable
`sub`, computed as HMAC(pairwise key, sector ‖ 0x00 ‖ account id) so no global identifier leaves
the service and sectors cannot correlate residents."""

from __future__ import annotations

import hashlib
import hmac

from core import b64url
from identity.accounts.service import HANDLE_ALPHABET, HANDLE_PREFIX
from identity.oidc.models import Client

# characters of a platform's user name after the prefix: 31**10 (about 2**49.5) names, so that
# two of 100 000 residents of one sector share one with a chance of about 6 in a million
USERNAME_LENGTH = 10


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

    def username_for(self, client: Client, account_id: str) -> str:
        """The `preferred_username` a client sees: a user name of its sector (`bewoner-` and
        ten characters of the handles' alphabet), stable there and different in every other
        sector, like `sub`. Never the resident's Kluis user name, which is the same at every
        platform and half of a login (DESIGN.md invariant 4); a public client (whose `sub`
        is global by an operator's choice) gets its sector's name too."""
        mac = hmac.new(
            self._key,
            f"username\x00{client.sector_identifier}\x00{account_id}".encode(),
            hashlib.sha256,
        )
        number = int.from_bytes(mac.digest()[:16], "big")
        letters = []
        for _ in range(USERNAME_LENGTH):
            number, index = divmod(number, len(HANDLE_ALPHABET))
            letters.append(HANDLE_ALPHABET[index])
        return HANDLE_PREFIX + "".join(letters)

    def for_client(self, client: Client, account_id: str) -> str:
        if client.subject_type == "public":
            return account_id
        return self.pairwise(client.sector_identifier, account_id)
