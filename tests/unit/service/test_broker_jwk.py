"""`kluis attestations broker-jwk`: the public half of Kluis's private_key_jwt key at the DigiD
broker, as the operator registers it there (no Python one-liner)."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from service.cli import cli

GOOD_SECRET = "Zb7m1wq0Vf3kPp9r2Lx8Ns4Hc6Ty5Ud1Ge0Ja7Ki3Mo"


def _env(tmp_path: Path, **more: str) -> dict[str, str]:
    return {
        "KLUIS_DATA_DIR": str(tmp_path),
        "KLUIS_SECRET_KEY": GOOD_SECRET,
        "KLUIS_BRP_URL": "https://brp.example/haalcentraal/api/brp",
        "KLUIS_BRP_API_KEY": "registry-key",
        "KLUIS_UPSTREAM_ISSUER": "https://broker.example",
        "KLUIS_UPSTREAM_CLIENT_ID": "kluis",
        **more,
    }


def _with_key(
    tmp_path: Path, key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
) -> dict[str, str]:
    """The settings of private_key_jwt at the broker, with `key` in a PEM file."""
    path = tmp_path / "broker-key.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return _env(
        tmp_path,
        KLUIS_UPSTREAM_CLIENT_AUTH="private_key_jwt",
        KLUIS_UPSTREAM_ASSERTION_KEY_FILE=str(path),
    )


def _b64(number: int) -> str:
    return base64.urlsafe_b64encode(number.to_bytes(32, "big")).rstrip(b"=").decode()


@pytest.mark.parametrize("as_set", [False, True])
def test_prints_the_public_jwk_of_the_assertion_key(tmp_path: Path, as_set: bool) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    env = _with_key(tmp_path, key)
    args = ["attestations", "broker-jwk", *(["--set"] if as_set else [])]
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    jwk = printed["keys"][0] if as_set else printed
    if as_set:
        assert list(printed) == ["keys"] and len(printed["keys"]) == 1
    numbers = key.public_key().public_numbers()
    assert (jwk["kty"], jwk["crv"], jwk["alg"], jwk["use"]) == ("EC", "P-256", "ES256", "sig")
    assert (jwk["x"], jwk["y"]) == (_b64(numbers.x), _b64(numbers.y))
    assert "d" not in jwk and "PRIVATE" not in result.output
    # kid: the RFC 7638 thumbprint, computed here independently
    members = json.dumps(
        {"crv": "P-256", "kty": "EC", "x": jwk["x"], "y": jwk["y"]}, separators=(",", ":")
    )
    digest = hashlib.sha256(members.encode()).digest()
    assert jwk["kid"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_without_private_key_jwt_it_says_what_to_set(tmp_path: Path) -> None:
    env = _env(tmp_path, KLUIS_UPSTREAM_CLIENT_SECRET="broker-secret")
    result = CliRunner().invoke(cli, ["attestations", "broker-jwk"], env=env)
    assert result.exit_code == 1
    assert "KLUIS_UPSTREAM_ASSERTION_KEY_FILE" in result.output and "{" not in result.output


def test_an_rsa_key_is_printed_with_use_and_without_key_ops(tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    env = _with_key(tmp_path, key)
    result = CliRunner().invoke(cli, ["attestations", "broker-jwk"], env=env)
    assert result.exit_code == 0, result.output
    jwk = json.loads(result.output)
    assert (jwk["kty"], jwk["alg"], jwk["use"]) == ("RSA", "RS256", "sig")
    assert "key_ops" not in jwk and not {"d", "p", "q"} & set(jwk)
    assert jwk["n"] and jwk["e"] == "AQAB"
