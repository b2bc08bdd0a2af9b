from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from service.cli import cli, main
from service.settings import Settings, SettingsError, load_settings

GOOD_SECRET = "Zb7m1wq0Vf3kPp9r2Lx8Ns4Hc6Ty5Ud1Ge0Ja7Ki3Mo"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("KLUIS_") and key != "KLUIS_TEST_DATABASE_URL":
            monkeypatch.delenv(key)


def test_defaults_follow_host_port_and_data_dir(tmp_path: Path) -> None:
    settings = Settings(host="127.0.0.1", port=8123, data_dir=tmp_path)
    assert settings.issuer == "http://127.0.0.1:8123"
    assert settings.database_url == f"sqlite:///{tmp_path / 'kluis.sqlite3'}"
    assert settings.mode == "development"


def test_environment_variables_are_honoured(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KLUIS_PORT", "9000")
    monkeypatch.setenv("KLUIS_ISSUER", "https://kluis.example.nl/")
    monkeypatch.setenv("KLUIS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KLUIS_DATABASE_URL", "postgresql+psycopg://u@h/db")
    settings = Settings()
    assert settings.port == 9000
    assert settings.issuer == "https://kluis.example.nl"
    assert settings.database_url == "postgresql+psycopg://u@h/db"


def test_development_generates_a_private_secret_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = load_settings(data_dir=tmp_path)
    path = tmp_path / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "development secret generated" in caplog.text
    second = load_settings(data_dir=tmp_path)
    assert first.secret_bytes == second.secret_bytes
    assert len(first.secret_bytes) >= 32


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        (None, "KLUIS_SECRET_KEY is not set"),
        ("", "KLUIS_SECRET_KEY is not set"),
        ("changeme", "placeholder"),
        ("change-me-please-change-me-please-change-me", "placeholder"),
        ("tooshort-but-random-x9", "placeholder"),
    ],
)
def test_production_refuses_missing_or_placeholder_secret(
    tmp_path: Path, secret: str | None, message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(
            mode="production",
            issuer="https://kluis.example.nl",
            data_dir=tmp_path,
            secret_key=secret,
        )
    assert not (tmp_path / "secret_key").exists()


def test_production_requires_https_issuer(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="https"):
        load_settings(mode="production", secret_key=GOOD_SECRET, data_dir=tmp_path)


def test_production_with_a_real_secret_starts(tmp_path: Path) -> None:
    settings = load_settings(
        mode="production",
        issuer="https://kluis.example.nl",
        secret_key=GOOD_SECRET,
        data_dir=tmp_path / "data",
    )
    assert settings.secret_bytes == GOOD_SECRET.encode()
    # production provisions nothing: no data directory, no development secret file
    assert not (tmp_path / "data").exists()


def test_cli_in_production_without_secret_exits_with_clear_message(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KLUIS_MODE", "production")
    monkeypatch.setenv("KLUIS_ISSUER", "https://kluis.example.nl")
    monkeypatch.setenv("KLUIS_DATA_DIR", str(tmp_path))
    monkeypatch.setattr("sys.argv", ["kluis", "serve"])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 2
    assert "KLUIS_SECRET_KEY is not set" in capsys.readouterr().err


def test_cli_help_needs_no_configuration() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for command in ("db", "keys", "serve"):
        assert command in result.output


def test_no_proxy_is_trusted_by_default_and_a_malformed_list_refuses_to_start(
    tmp_path: Path,
) -> None:
    assert load_settings(data_dir=tmp_path).trusted_proxy_list == []
    listed = load_settings(data_dir=tmp_path, trusted_proxies=" 127.0.0.1, 10.0.0.0/8 ,")
    assert listed.trusted_proxy_list == ["127.0.0.1", "10.0.0.0/8"]
    for bad in ("*", "proxy.example.nl", "10.0.0.0/33"):
        with pytest.raises(SettingsError, match="KLUIS_TRUSTED_PROXIES"):
            load_settings(data_dir=tmp_path, trusted_proxies=bad)
