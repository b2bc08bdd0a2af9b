"""Letter codes: what is printed on a letter, how a resident may type it, and the only form in
which Kluis keeps it (a keyed hash).

A code is CODE_LENGTH characters from an alphabet without look-alikes (no 0/O, 1/I/L, and no
U, as in Crockford's base32), so it can be read aloud over the phone and typed from paper:
30 symbols, 15 characters, 73.6 bits of entropy. It is printed in groups of three
(`K7M 2PQ X4R T9H NWC`); typing accepts any case, spaces and dashes.

Kluis stores HMAC-SHA256(key, code) with a key derived from the secret key for this purpose
only (`kluis/letters/code`), never the code: a copy of the database does not let anyone try
codes offline, and the letter's own printout is the only place the code exists.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets

from keys import derive_key

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 15
GROUP = 3
ENTROPY_BITS = CODE_LENGTH * math.log2(len(ALPHABET))
CODE_KEY_PURPOSE = "kluis/letters/code"
_SEPARATORS = str.maketrans("", "", " -\t")


class MalformedCode(ValueError):
    """What was typed cannot be a letter code (wrong length or characters)."""


def new_code() -> str:
    """A fresh code, ungrouped."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def grouped(code: str, separator: str = " ") -> str:
    """`K7M2PQX4RT9HNWC` → `K7M 2PQ X4R T9H NWC` (for print and for reading aloud)."""
    return separator.join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


def normalize_code(typed: str) -> str:
    """The code a resident typed, ungrouped and upper case; `MalformedCode` if it cannot be
    one (the message says what a code looks like, never echoes the input)."""
    code = typed.translate(_SEPARATORS).upper()
    if len(code) != CODE_LENGTH or any(c not in ALPHABET for c in code):
        raise MalformedCode(
            f"a letter code has {CODE_LENGTH} letters and digits (no 0, 1, I, L, O or U)"
        )
    return code


class CodeHasher:
    """The keyed hash codes are stored and looked up by."""

    def __init__(self, secret: bytes) -> None:
        self._key = derive_key(secret, CODE_KEY_PURPOSE)

    def __call__(self, code: str) -> str:
        return hmac.new(self._key, code.encode("ascii"), hashlib.sha256).hexdigest()
