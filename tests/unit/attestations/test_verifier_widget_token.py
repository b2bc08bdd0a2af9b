"""The widget's pure parts: the widget token (an HMAC of the session id under a purpose-bound
key) and the origins a platform's redirect URIs allow (RFC 6454 serialisation)."""

from __future__ import annotations

import pytest

from attestations.verifier.config import VerifierConfig
from attestations.verifier.widget import origin_of, platform_origins, widget_token

CONFIG = VerifierConfig("https://kluis.example.nl", widget_key=b"k" * 32)


def test_a_widget_token_is_bound_to_its_session_and_to_the_key() -> None:
    token = widget_token(CONFIG, "session-a")
    assert token == widget_token(CONFIG, "session-a")  # nothing to store
    assert token != widget_token(CONFIG, "session-b")
    other = VerifierConfig("https://kluis.example.nl", widget_key=b"o" * 32)
    assert token != widget_token(other, "session-a")
    assert len(token) == 43 and "=" not in token  # 256 bits, base64url


def test_without_a_key_there_is_no_token() -> None:
    with pytest.raises(RuntimeError):
        widget_token(VerifierConfig("https://kluis.example.nl"), "session-a")


@pytest.mark.parametrize(
    ("uri", "origin"),
    [
        ("https://Buurt.Example.nl/oidc/callback?x=1", "https://buurt.example.nl"),
        ("https://buurt.example.nl:443/cb", "https://buurt.example.nl"),
        ("https://buurt.example.nl:8443/cb", "https://buurt.example.nl:8443"),
        ("http://localhost:8080/cb", "http://localhost:8080"),
        ("http://127.0.0.1:80/cb", "http://127.0.0.1"),
        ("http://[::1]:9000/cb", "http://[::1]:9000"),
    ],
)
def test_origins_are_serialised_as_browsers_send_them(uri: str, origin: str) -> None:
    assert origin_of(uri) == origin


def test_a_platforms_origins_come_from_its_redirect_uris() -> None:
    uris = ["https://buurt.example.nl/cb", "https://buurt.example.nl/other", "https://b.example/x"]
    assert platform_origins(uris) == {"https://buurt.example.nl", "https://b.example"}
