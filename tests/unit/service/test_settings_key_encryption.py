"""The key-encryption secrets in the settings: optional, separate from the root, and held to
the production checks of every secret."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from service.settings import SettingsError, load_settings

ROOT = "Zb7m1wq0Vf3kPp9r2Lx8Ns4Hc6Ty5Ud1Ge0Ja7Ki3Mo"
KEK = "Qe4r8Tz1Wm6Yb0Nc3Vx7Lp2Hs9Dk5Gf1Ja8Ru4Io6Eu"
OLD_KEK = "Mn3b7Vc1Xz5Lk9Jh2Gf6Ds0Ap4Oi8Uy3Tr7Ew1Qa5S"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("KLUIS_") and key != "KLUIS_TEST_DATABASE_URL":
            monkeypatch.delenv(key)


def production(tmp_path: Path, **overrides: Any) -> Any:
    return load_settings(
        mode="production",
        issuer="https://kluis.example.nl",
        data_dir=tmp_path,
        secret_key=ROOT,
        **overrides,
    )


def test_without_a_key_encryption_secret_the_root_wraps_as_before(tmp_path: Path) -> None:
    settings = production(tmp_path)
    assert settings.key_encryption_bytes == settings.secret_bytes == ROOT.encode()
    assert settings.previous_key_encryption_bytes == ()
    development = load_settings(data_dir=tmp_path / "dev", key_encryption_secret="")
    assert development.key_encryption_bytes == development.secret_bytes


def test_environment_sets_the_current_and_the_previous_secrets(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KLUIS_KEY_ENCRYPTION_SECRET", KEK)
    monkeypatch.setenv("KLUIS_PREVIOUS_KEY_ENCRYPTION_SECRETS", f" {OLD_KEK} ,{'z' * 40},")
    settings = production(tmp_path)
    assert settings.key_encryption_bytes == KEK.encode()
    assert settings.previous_key_encryption_bytes == (OLD_KEK.encode(), b"z" * 40)
    assert settings.secret_bytes == ROOT.encode()


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"key_encryption_secret": "changeme-changeme-changeme-changeme"}, "KLUIS_KEY_ENC"),
        ({"key_encryption_secret": "short-but-random-9x2"}, "KLUIS_KEY_ENCRYPTION_SECRET"),
        (
            {"key_encryption_secret": KEK, "previous_key_encryption_secrets": "tooshort"},
            "KLUIS_PREVIOUS_KEY_ENCRYPTION_SECRETS",
        ),
    ],
)
def test_production_refuses_placeholder_or_short_key_encryption_secrets(
    tmp_path: Path, overrides: dict[str, str], named: str
) -> None:
    with pytest.raises(SettingsError, match=named) as refused:
        production(tmp_path, **overrides)
    for value in overrides.values():
        assert value not in str(refused.value)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"key_encryption_secret": ROOT}, "equals KLUIS_SECRET_KEY"),
        (
            {"key_encryption_secret": KEK, "previous_key_encryption_secrets": f"{OLD_KEK},{KEK}"},
            "contains the current",
        ),
        ({"previous_key_encryption_secrets": ROOT}, "contains the current"),
        (
            {"key_encryption_secret": KEK, "previous_key_encryption_secrets": ROOT},
            "always accepted",
        ),
    ],
)
def test_the_key_encryption_secrets_must_differ_from_the_root_and_each_other(
    tmp_path: Path, overrides: dict[str, str], reason: str
) -> None:
    for mode in ("development", "production"):
        with pytest.raises(SettingsError, match=reason) as refused:
            if mode == "production":
                production(tmp_path, **overrides)
            else:
                load_settings(data_dir=tmp_path / "dev", secret_key=ROOT, **overrides)
        for value in (ROOT, KEK, OLD_KEK):
            assert value not in str(refused.value)
