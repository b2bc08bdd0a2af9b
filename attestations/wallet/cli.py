"""`kluis wallet …`: a holder for power users, demos and tests. It speaks only OpenID4VCI and
OpenID4VP over HTTP (any conforming issuer or verifier) and keeps its credentials and keys in
a local JSON file (`--store`, mode 0600). It needs no Kluis configuration or database."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import httpx

from attestations.wallet.holder import Holder, HolderError
from attestations.wallet.holder_store import DEFAULT_STORE, HolderStore
from attestations.wallet.holder_x509 import ChainRefused, load_trust_anchors

F = TypeVar("F", bound=Callable[..., Any])
TIMEOUT_SECONDS = 15.0


def store_option(command: F) -> F:
    option = click.option(
        "--store",
        "store_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=DEFAULT_STORE,
        show_default=True,
        envvar="KLUIS_WALLET_STORE",
        help="The wallet file (credentials and private keys).",
    )
    return option(command)


def _holder(store_path: Path, http: httpx.Client) -> Holder:
    return Holder(http, HolderStore(store_path))


def _path_text(path: tuple[Any, ...]) -> str:
    return ".".join("*" if p is None else str(p) for p in path)


@click.group("wallet")
def wallet_cli() -> None:
    """A command-line wallet (OpenID4VCI / OpenID4VP holder)."""


@wallet_cli.command("receive")
@click.argument("offer_uri")
@click.option("--tx-code", help="The transaction code given with the offer.")
@click.option("--count", type=click.IntRange(1, 10), default=1, show_default=True)
@store_option
def receive(offer_uri: str, tx_code: str | None, count: int, store_path: Path) -> None:
    """Collect the credential(s) of an openid-credential-offer:// URI."""
    with httpx.Client(timeout=TIMEOUT_SECONDS) as http:
        try:
            stored = _holder(store_path, http).receive(offer_uri, tx_code, count)
        except (HolderError, httpx.HTTPError, KeyError) as exc:
            raise click.ClickException(f"receiving failed: {exc}") from exc
    for item in stored:
        click.echo(f"received {item.id}  {item.vct}")


@wallet_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@store_option
def list_credentials(as_json: bool, store_path: Path) -> None:
    """The credentials in the wallet file: type and issuer, and which claims each holds."""
    listed = [
        {"id": c.id, "vct": c.vct, "issuer": c.issuer, "claims": sorted(c.claims)}
        for c in HolderStore(store_path).load()
    ]
    if as_json:
        click.echo(json.dumps(listed, indent=2))
        return
    for item in listed:
        click.echo(f"{item['id']}  {item['vct']}  ({item['issuer']})")


@wallet_cli.command("present")
@click.argument("qr_payload")
@click.option("--yes", is_flag=True, help="Share without asking.")
@click.option(
    "--trust-anchor",
    "trust_anchors",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="PEM file of CA certificates an x509_san_dns: verifier's chain must lead to (repeatable).",
)
@click.option(
    "--insecure-skip-chain",
    is_flag=True,
    help="Without trust anchors, accept any x509_san_dns: chain whose certificate names the "
    "host (development only).",
)
@store_option
def present(
    qr_payload: str,
    yes: bool,
    trust_anchors: tuple[Path, ...],
    insecure_skip_chain: bool,
    store_path: Path,
) -> None:
    """Answer a verifier's QR payload (openid4vp:// or its https link): show what it asks
    for, then present only that (or refuse). An x509_san_dns: verifier is accepted only if
    its certificate chain leads to a --trust-anchor."""
    try:
        anchors = load_trust_anchors(trust_anchors)
    except ChainRefused as exc:
        raise click.ClickException(str(exc)) from exc
    if insecure_skip_chain and not anchors:
        click.echo("warning: x509_san_dns: certificate chains are NOT checked", err=True)
    with httpx.Client(timeout=TIMEOUT_SECONDS) as http:
        holder = Holder(http, HolderStore(store_path), anchors, insecure_skip_chain)
        try:
            request = holder.resolve(qr_payload)
        except (HolderError, httpx.HTTPError, KeyError, ValueError) as exc:
            raise click.ClickException(f"the request could not be read: {exc}") from exc
        click.echo(f"{request.client_id} asks for:")
        for asked in request.asked:
            have = f"from {asked.credential.id}" if asked.credential else "NOT IN THIS WALLET"
            claims = ", ".join(_path_text(p) for p in asked.paths) or "(no claims)"
            click.echo(f"  {claims}  [{' | '.join(asked.vct_values)}] {have}")
        if not request.satisfiable:
            holder.present(request, approve=False)
            raise click.ClickException("this wallet cannot answer; refused (access_denied)")
        approve = yes or click.confirm("Share exactly this?", default=False)
        try:
            holder.present(request, approve=approve)
        except (HolderError, httpx.HTTPError) as exc:
            raise click.ClickException(f"presenting failed: {exc}") from exc
    click.echo("shared" if approve else "refused")
