"""`kluis verifier …`: the verifier's X.509 identity and the issuers it trusts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol

import click

from adapters import HttpFetcher
from attestations.verifier.config import VerifierConfig
from attestations.verifier.models import TrustedIssuer
from attestations.verifier.trust import (
    add_trusted_issuer,
    remove_trusted_issuer,
    trusted_issuers,
)
from attestations.verifier.x509 import DEV_CA_NAME, write_development_ca
from core import Database, Problem

ACTOR = "operator:cli"


@click.group("verifier")
def verifier_cli() -> None:
    """Verification sessions (OpenID4VP): X.509 identity, trusted issuers."""


@verifier_cli.command("dev-ca")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for ca.pem, verifier-chain.pem and verifier-key.pem.",
)
@click.option("--dns", "dns_name", required=True, help="The host name of KLUIS_ISSUER.")
def dev_ca(out: Path, dns_name: str) -> None:
    """Generate a DEVELOPMENT CA and a verifier certificate for `x509_san_dns:`.

    Only wallets that are told to trust ca.pem accept it. Never use it in production: get a
    certificate for your host name from a CA that wallets trust."""
    paths = write_development_ca(out, dns_name)
    click.echo(f"DEVELOPMENT ONLY: {DEV_CA_NAME}", err=True)
    click.echo(f"KLUIS_VERIFIER_X509_KEY_FILE={paths['key']}")
    click.echo(f"KLUIS_VERIFIER_X509_CHAIN_FILE={paths['chain']}")
    click.echo(f"# trust anchor for test wallets: {paths['ca']}")


class VerifierRuntime(Protocol):
    @property
    def verifier(self) -> VerifierConfig: ...
    @property
    def db(self) -> Database: ...


@verifier_cli.group("issuers")
def issuers_cli() -> None:
    """Issuers whose credentials are accepted besides Kluis's own."""


@issuers_cli.command("add")
@click.option("--iss", "iss", required=True, help="The issuer identifier (its `iss`).")
@click.option("--vct", "vct_values", multiple=True, required=True, help="An accepted vct.")
@click.option(
    "--jwks-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Its public keys; without it, fetched from ISS/.well-known/jwt-vc-issuer.",
)
@click.option("--jwks", "jwks_json", help="Its public keys as inline JSON.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def add_issuer(
    runtime: VerifierRuntime,
    iss: str,
    vct_values: tuple[str, ...],
    jwks_file: Path | None,
    jwks_json: str | None,
    as_json: bool,
) -> None:
    """Trust ISS for the given --vct values (again: replace its entry)."""
    if jwks_file is not None and jwks_json is not None:
        raise click.UsageError("give --jwks-file or --jwks, not both")
    raw = jwks_file.read_text() if jwks_file is not None else jwks_json
    try:
        jwks = json.loads(raw) if raw is not None else None
    except ValueError as exc:
        raise click.BadParameter("the JWKS is not valid JSON") from exc
    config = runtime.verifier
    fetcher = config.fetcher or HttpFetcher(allow_http=False)
    try:
        with runtime.db.transaction() as session:
            row = add_trusted_issuer(
                session,
                fetcher,
                iss,
                vct_values,
                ACTOR,
                jwks=jwks,
                own_issuer=config.issuer,
            )
            summary = _summary(row)
    except Problem as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(json.dumps(summary) if as_json else f"trusted {iss} ({summary['source']})")


@issuers_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def list_issuers(runtime: VerifierRuntime, as_json: bool) -> None:
    with runtime.db.transaction() as session:
        rows = [_summary(row) for row in trusted_issuers(session)]
    if as_json:
        click.echo(json.dumps(rows))
        return
    for row in rows:
        click.echo(f"{row['iss']}  {row['source']}  {' '.join(row['vct_values'])}")


@issuers_cli.command("remove")
@click.argument("iss")
@click.pass_obj
def remove_issuer(runtime: VerifierRuntime, iss: str) -> None:
    with runtime.db.transaction() as session:
        removed = remove_trusted_issuer(session, iss, ACTOR)
    if not removed:
        raise click.ClickException("no such trusted issuer")
    click.echo(f"removed {iss}")


def _summary(row: TrustedIssuer) -> dict[str, Any]:
    return {
        "iss": row.iss,
        "source": row.source,
        "vct_values": row.vct_values,
        "keys": [k.get("kid") for k in row.jwks.get("keys", [])],
    }
