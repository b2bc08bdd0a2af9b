"""`untrusted.check_form_text` skips decoding a form-urlencoded text only when nothing in it
could be refused: it must refuse exactly what checking every decoded name and value refuses."""

from __future__ import annotations

import base64
import random

import pytest

from core import untrusted


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def full_check(text: str) -> str | None:
    """The reason the decoded check refuses `text`, or None."""
    from urllib.parse import parse_qsl

    try:
        untrusted.check_texts(v for pair in parse_qsl(text, True) for v in pair)
    except untrusted.UnsafeInput as exc:
        return exc.reason
    return None


def fast_check(text: str) -> str | None:
    try:
        untrusted.check_form_text(text)
    except untrusted.UnsafeInput as exc:
        return exc.reason
    return None


DEEP = "[" * 40 + "]" * 40
BAD_SEGMENTS = [
    b64url(DEEP.encode()),
    b64url(b'{"a":"\\u0000"}'),
    b64url(b' {"a":' + DEEP.encode() + b"}"),
]


def percent_encode_some(text: str, rng: random.Random) -> str:
    out = []
    for char in text:
        if rng.random() < 0.3 and ord(char) < 0x80:
            code = f"{ord(char):02X}"
            out.append("%" + (code.lower() if rng.random() < 0.5 else code))
        else:
            out.append(char)
    return "".join(out)


FRAGMENTS = [
    "a",
    "Z",
    "0",
    "_",
    "-",
    ".",
    "~",
    "+",
    " ",
    "\t",
    "\xa0",
    "\x85",
    "\x1c",
    "é",
    "%",
    "%2",
    "%zz",
    "%2E",
    "%2e",
    "%7E",
    "%7e",
    "%7B",
    "%7b",
    "%5B",
    "%5b",
    "%00",
    "\x00",
    "{",
    "[",
    "&",
    "&",
    "=",
    "=",
    "%20",
    "%3A",
    "%2F",
    "%2B",
    "%C2%A0",
    "%C2",
    "%A0",
    "%E3%80%80",
    "%C2%85",
    "%41",
    "eyJhIjoxfQ",
    "e30",
    "W10",
    *BAD_SEGMENTS,
    DEEP,
    '["\\u0000"]',
    '{"a":"\\u0000"}',
    "%5B" * 40,
    "%5b" * 40,
    "%7B%22a%22:" * 40,
    "%7b%22a%22%3A%5B%22%5Cu0000%22%5D%7D",
]


def test_texts_it_skips_are_texts_the_full_check_accepts() -> None:
    rng = random.Random(14)
    refused = 0
    for _ in range(30_000):
        text = "".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(1, 12)))
        if rng.random() < 0.3:
            text = percent_encode_some(text, rng)
        expected = full_check(text)
        refused += expected is not None
        assert fast_check(text) == expected, text
        if expected is not None:
            assert untrusted._form_suspect(text), text
    assert refused > 1000  # the generator does reach the refusals


@pytest.mark.parametrize("bad", BAD_SEGMENTS)
@pytest.mark.parametrize("seed", range(20))
def test_a_token_hidden_by_percent_encoding_and_whitespace_is_still_checked(
    bad: str, seed: int
) -> None:
    rng = random.Random(seed)
    token = percent_encode_some(f"eyJhbGciOiJFUzI1NiJ9.{bad}.c2ln", rng)
    pad = rng.choice(["", "+", "%20", "%C2%A0", "%09", "\xa0", "+%E3%80%80"])
    for text in (f"x={pad}{token}{pad}", f"{pad}{token}", f"a=1&{token}=2&b", f"v={token}~d"):
        assert full_check(text) is not None, text
        assert fast_check(text) == full_check(text), text


@pytest.mark.parametrize(
    "text",
    [
        "response_type=code&client_id=kc_abc&redirect_uri=https%3A%2F%2Frp.example.nl%2Fcb"
        "&scope=openid+email&state=xyz&nonce=abc&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8"
        "URWbuGJSstw-cM&code_challenge_method=S256",
        "grant_type=authorization_code&code=Zm9vYmFy_-x&redirect_uri=https%3A%2F%2Frp.nl%2Fcb",
        "",
    ],
)
def test_everyday_oauth_texts_are_not_decoded(text: str) -> None:
    assert not untrusted._form_suspect(text)
