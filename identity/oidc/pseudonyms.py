"""Per-poll pseudonyms ("one person, one vote"), for the verifier and the OpenID provider.

`poll_pseudonym = HMAC-SHA256(key, channel ‖ 0x00 ‖ sector ‖ 0x00 ‖ poll_id ‖ 0x00 ‖ holder)`,
base64url, with the key derived from the secret key for this purpose only
(HKDF info `kluis/verifier/poll-pseudonym`) and `sector` the platform's pairwise sector
identifier (OIDC Core §8.1). It is stable for one holder, channel, platform and poll, differs
across polls and platforms, and without the key says nothing about who the holder is.

`channel` keeps the two ways of voting apart: `"poll"` for the verifier (an anonymous
OpenID4VP presentation: the platform learns the pseudonym and the disclosed claims, not who
voted) and `"oidc-poll"` for the OIDC `poll_pseudonym` claim (which travels next to the
pairwise `sub`). Were they equal, a platform could run an "anonymous" QR poll and then ask
the OIDC provider for the same poll's pseudonym to learn the `sub` behind each vote. The
price: one resident gets different pseudonyms for one poll through the two channels, so a
platform must use one channel per poll (QR for anonymous votes, OIDC when it knows the voter
anyway), or a resident could vote twice.

`holder` is what identifies the voter: `resident_reference(account_id)`, the same for every
credential and every login of that resident. Without a Kluis account there is no pseudonym
at all (a wallet key alone would give one per credential of a batch).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import TypeGuard

from core import b64url
from keys import derive_key

POLL_PSEUDONYM_KEY_LABEL = "kluis/verifier/poll-pseudonym"
VERIFIER_CHANNEL = "poll"
OIDC_CHANNEL = "oidc-poll"
POLL_ID = re.compile(r"^[\x21-\x7e]{1,128}$")  # printable ASCII, no spaces, at most 128


def poll_pseudonym_key(secret: bytes) -> bytes:
    """The HMAC key of poll pseudonyms, derived from the service's secret key."""
    return derive_key(secret, POLL_PSEUDONYM_KEY_LABEL)


def valid_poll_id(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and POLL_ID.match(value) is not None


def poll_pseudonym(
    key: bytes, sector: str, poll_id: str, holder: str, channel: str = VERIFIER_CHANNEL
) -> str:
    """HMAC(key, channel ‖ sector ‖ poll_id ‖ holder), `holder` a `resident_reference`. The
    two channel labels differ in their first byte, so a verifier message never equals an OIDC
    one whatever the other parts hold."""
    message = b"\x00".join(p.encode() for p in (channel, sector, poll_id, holder))
    return b64url(hmac.new(key, message, hashlib.sha256).digest())


def resident_reference(account_id: str) -> str:
    """The holder part for a Kluis account (the prefix names the kind of holder)."""
    return f"account:{account_id}"


def resident_poll_pseudonym(key: bytes, sector: str, poll_id: str, account_id: str) -> str:
    """The verifier's per-resident poll pseudonym: what a presentation by any wallet holding a
    credential of this Kluis account gives for this platform (`sector`) and poll."""
    return _for_account(key, sector, poll_id, account_id, VERIFIER_CHANNEL)


def oidc_poll_pseudonym(key: bytes, sector: str, poll_id: str, account_id: str) -> str:
    """The OIDC `poll_pseudonym` claim for this resident, platform and poll: never equal to
    the verifier's (`resident_poll_pseudonym`), so an anonymous vote cannot be tied to `sub`."""
    return _for_account(key, sector, poll_id, account_id, OIDC_CHANNEL)


def _for_account(key: bytes, sector: str, poll_id: str, account_id: str, channel: str) -> str:
    if not valid_poll_id(poll_id):
        raise ValueError("poll_id must be 1 to 128 printable ASCII characters without spaces")
    return poll_pseudonym(key, sector, poll_id, resident_reference(account_id), channel)
