from __future__ import annotations

import pytest

from identity.accounts.login import safe_return_to


@pytest.mark.parametrize(
    "value",
    [
        "/",
        "/authorize/continue/abc123",
        "/authorize?client_id=x&redirect_uri=https%3A%2F%2Frp.example%2Fcb",
        "/consent#section",
        "/%2F%2Fevil.example",  # percent-encoded slashes stay a path on this host
    ],
)
def test_local_paths_are_kept(value: str) -> None:
    assert safe_return_to(value) == value


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "//evil.example",
        "//evil.example/path",
        "///evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "https://evil.example/",
        "http:evil.example",
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,hi",
        "evil.example",
        "relative/path",
        "/\t/evil.example",
        "/\n/evil.example",
        " //evil.example",
        "/ok\x00",
        "/" + "a" * 3000,
    ],
)
def test_anything_else_falls_back_to_the_start_page(value: str | None) -> None:
    assert safe_return_to(value) == "/"
