"""`unverified_issuer`: the `iss` a presentation's Issuer-signed JWT names, read before any
check only to choose whose keys verify it; anything not shaped as a JWT with a string `iss`
gives None (and the verification then refuses it)."""

from __future__ import annotations

import json

import pytest

from attestations.verifier.response import unverified_issuer
from core import b64url


def _jwt(payload: object) -> str:
    header = b64url(json.dumps({"alg": "ES256", "typ": "dc+sd-jwt"}).encode())
    return f"{header}.{b64url(json.dumps(payload).encode())}.c2ln"


def test_the_issuer_is_read_from_the_payload_of_the_first_part() -> None:
    presentation = _jwt({"iss": "https://kluis.example", "vct": "x"}) + "~WyJ9~kb.jwt.sig"
    assert unverified_issuer(presentation) == "https://kluis.example"


@pytest.mark.parametrize(
    "presentation",
    [
        "",
        "not-a-jwt~",
        "a.b~",
        _jwt({"iss": 7}),
        _jwt(["iss"]),
        _jwt({"vct": "x"}),
        "eyJhbGciOiJFUzI1NiJ9.%%%.c2ln~",
        "eyJhbGciOiJFUzI1NiJ9.bm90IGpzb24.c2ln~",
        "eyJhbGciOiJFUzI1NiJ9.w6k.c2ln~",  # not UTF-8
        "eyJhbGciOiJFUzI1NiJ9.éé.c2ln~",
    ],
)
def test_anything_else_names_no_issuer(presentation: str) -> None:
    assert unverified_issuer(presentation) is None
