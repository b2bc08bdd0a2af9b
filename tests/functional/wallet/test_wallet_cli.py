"""`kluis attestations offer … --to-wallet` issues straight into the built-in wallet."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy.orm import Session

from attestations.cli import attestations_cli
from attestations.wallet import held_credentials
from service.runtime import Runtime
from tests.support.oidc import Resident
from tests.support.pages import shows


def test_operator_issues_straight_into_the_built_in_wallet(
    runtime: Runtime, session: Session, resident: Resident
) -> None:
    claims = json.dumps({"birth_date": "1990-05-17"})
    result = CliRunner().invoke(
        attestations_cli,
        [
            "offer",
            "--account",
            resident.account_id,
            "--type",
            "age",
            "--claims",
            claims,
            "--to-wallet",
            "--json",
        ],
        obj=runtime,
    )
    assert result.exit_code == 0, result.output
    [stored] = json.loads(result.output)
    assert stored["type"] == "age" and not shows(result.output, "1990")
    assert "tx_code" not in result.output
    [held] = held_credentials(session, resident.account_id)
    assert held.id == stored["wallet_credential"] and held.state == "valid"
