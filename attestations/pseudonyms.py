"""Per-poll pseudonyms ("one person, one vote"), shared by the verifier and the OpenID provider.

`poll_pseudonym = HMAC-SHA256(key, "poll" ‖ 0x00 ‖ sector ‖ 0x00 ‖ poll_id ‖ 0x00 ‖ holder)`,
base64url, with the key derived from the secret key for this purpose only
(HKDF info `kluis/verifier/poll-pseudonym`) and `sector` the platform's pairwise sector
identifier (OIDC Core §8.1). It is stable for one holder, platform and poll, differs across
polls and platforms, and without the key says nothing about who the holder is.

`holder` is what identifies the voter: for a Kluis account `resident_reference(account_id)`
(the same for every credential and every login of that resident), for an external wallet
without an account only its key's RFC 7638 thumbprint. Both paths produce the same pseudonym
for the same resident, platform and poll when they use `resident_poll_pseudonym`.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from core.tokens import b64url
from keys import derive_key

POLL_PSEUDONYM_KEY_LABEL = "kluis/verifier/poll-pseudonym"
POLL_ID = re.compile(r"^[\x21-\x7e]{1,128}$")  # printable ASCII, no spaces, at most 128


def poll_pseudonym_key(secret: bytes) -> bytes:
    """The HMAC key of poll pseudonyms, derived from the service's secret key."""
    return derive_key(secret, POLL_PSEUDONYM_KEY_LABEL)


def valid_poll_id(value: object) -> bool:
    return isinstance(value, str) and POLL_ID.match(value) is not None


def poll_pseudonym(key: bytes, sector: str, poll_id: str, holder: str) -> str:
    """HMAC(key, sector ‖ poll_id ‖ holder); `holder` is a key thumbprint or a
    `resident_reference`."""
    message = b"\x00".join(p.encode() for p in ("poll", sector, poll_id, holder))
    return b64url(hmac.new(key, message, hashlib.sha256).digest())


def resident_reference(account_id: str) -> str:
    """The holder part for a Kluis account. The prefix keeps it apart from key thumbprints
    (base64url, which has no colon)."""
    return f"account:{account_id}"


def resident_poll_pseudonym(key: bytes, sector: str, poll_id: str, account_id: str) -> str:
    """The per-resident poll pseudonym: what the verifier (for a presentation by a Kluis
    account's wallet) and the OIDC `poll_pseudonym` claim both give for this resident,
    platform (`sector`) and poll."""
    if not valid_poll_id(poll_id):
        raise ValueError("poll_id must be 1 to 128 printable ASCII characters without spaces")
    return poll_pseudonym(key, sector, poll_id, resident_reference(account_id))
