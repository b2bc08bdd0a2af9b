from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy.orm import Session

from attestations.cli import attestations_cli
from identity.accounts.models import AccountStatus
from identity.accounts.service import create_account
from service.runtime import Runtime
from tests.support.audit import discloses
from tests.support.wallet import Wallet

POSTCODE = json.dumps(
    {
        "postcode": "1087AB",
        "municipality": {"code": "GM0363", "name": "Amsterdam"},
        "residence_source": "letter",
    }
)


def run(runtime: Runtime, *args: str) -> str:
    result = CliRunner().invoke(attestations_cli, list(args), obj=runtime)
    assert result.exit_code == 0, result.output
    return result.output


def test_offer_by_email_then_list_and_revoke(
    runtime: Runtime, session: Session, wallet: Wallet, tmp_path: Path
) -> None:
    account = create_account(
        runtime.accounts,
        session,
        email="klaas@example.org",
        name=None,
        password_hash=None,
        status=AccountStatus.ACTIVE,
        email_verified=True,
    )
    session.commit()
    qr = tmp_path / "offer.png"

    offer = json.loads(
        run(
            runtime,
            "offer",
            "--account",
            "Klaas@example.org",
            "--type",
            "postcode",
            "--claims",
            POSTCODE,
            "--json",
            "--qr",
            str(qr),
        )
    )

    assert set(offer) == {"credential_offer_uri", "offer_uri", "tx_code", "expires_at"}
    assert qr.read_bytes().startswith(b"\x89PNG")
    wallet.accept(offer["offer_uri"], offer["tx_code"], count=2)
    listed = json.loads(run(runtime, "list", "--account", account.id, "--json"))
    assert len(listed) == 2 and {item["type"] for item in listed} == {"postcode"}
    assert all(item["revoked_at"] is None for item in listed)
    # the status index is a position in the status list, drawn at random (0 to 131 071): as a
    # number it can contain "1087" by chance (about once in 500 runs), which discloses nothing
    assert all(type(item.pop("status_idx")) is int for item in listed)
    assert not discloses(listed, "1087")

    assert "revoked" in run(runtime, "revoke", listed[0]["id"])

    again = json.loads(run(runtime, "list", "--account", "klaas@example.org", "--json"))
    assert sum(item["revoked_at"] is not None for item in again) == 1


def test_offer_refuses_invalid_claims_and_unknown_accounts(
    runtime: Runtime, session: Session
) -> None:
    from tests.support.attestations import make_account

    account = make_account(session, runtime.subject_keys)
    session.commit()
    runner = CliRunner()
    bad = runner.invoke(
        attestations_cli,
        ["offer", "--account", account, "--type", "postcode", "--claims", '{"postcode": "1087SS"}'],
        obj=runtime,
    )
    assert bad.exit_code != 0 and "1087SS" not in bad.output
    unknown = runner.invoke(
        attestations_cli,
        [
            "offer",
            "--account",
            "f" * 32,
            "--type",
            "age",
            "--claims",
            '{"birth_date": "2000-01-01"}',
        ],
        obj=runtime,
    )
    assert unknown.exit_code != 0 and "no such account" in unknown.output
    missing = runner.invoke(attestations_cli, ["revoke", "0" * 32], obj=runtime)
    assert missing.exit_code != 0


def test_purge_runs(runtime: Runtime) -> None:
    assert run(runtime, "purge").startswith("purged ")


def test_offer_ttl_sets_the_lifetime_within_bounds(runtime: Runtime, session: Session) -> None:
    from tests.support.attestations import make_account

    account = make_account(session, runtime.subject_keys)
    session.commit()
    base = ["offer", "--account", account, "--type", "postcode", "--claims", POSTCODE, "--json"]
    before = dt.datetime.now(dt.UTC)
    default = json.loads(run(runtime, *base))
    short = json.loads(run(runtime, *base, "--ttl", "60"))
    after = dt.datetime.now(dt.UTC)
    for offer, ttl in ((default, dt.timedelta(minutes=15)), (short, dt.timedelta(seconds=60))):
        expires = dt.datetime.fromisoformat(offer["expires_at"])
        assert before + ttl <= expires <= after + ttl
    for refused in ("0", "86401", "-5", "soon"):
        result = CliRunner().invoke(attestations_cli, [*base, "--ttl", refused], obj=runtime)
        assert result.exit_code == 2 and "--ttl" in result.output
