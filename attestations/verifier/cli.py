"""`kluis verifier …`: the verifier's X.509 identity and the issuers it trusts."""

from __future__ import annotations

from pathlib import Path

import click

from attestations.verifier.x509 import DEV_CA_NAME, write_development_ca


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
