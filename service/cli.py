"""The `kluis` command: the composition root for operators."""

from __future__ import annotations

import functools
import json
import logging
import sys

import click
import uvicorn

from adapters import FileOutbox
from attestations import (
    AttestationConfig,
    LettersConfig,
    VerifierConfig,
    X509ConfigError,
    attestations_cli,
    letters_cli,
    request_signer,
    verifier_cli,
    vouching,
    wallet_cli,
)
from audit import AuditLog, audit_cli
from core import Database, configure_logging
from identity import (
    ACCOUNT_STATUS_COMMANDS,
    Accounts,
    Provider,
    accounts_cli,
    clients_cli,
    keys_rotate_cli,
)
from keys import Keyring, SubjectKeys, UnwrappableKeys, check_wrapped_keys, keys_cli
from rights import TombstoneJournal, delete_account, erasure_cli, vouching_cli
from service import migrate
from service.backup_cli import backup_cli, restore_cli
from service.runtime import Runtime, assertion_key, build_runtime
from service.secret_cli import secret_cli, wrapped_tables
from service.settings import Settings, SettingsError, load_settings

log = logging.getLogger("kluis.cli")


class CliRuntime:
    """Builds settings and the runtime on first use, so `--help` needs no configuration."""

    @functools.cached_property
    def runtime(self) -> Runtime:
        settings = load_settings()
        configure_logging(settings.log_level)
        return build_runtime(settings)

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @property
    def db(self) -> Database:
        return self.runtime.db

    @property
    def audit(self) -> AuditLog:
        return self.runtime.audit

    @property
    def keyring(self) -> Keyring:
        return self.runtime.keyring

    @property
    def subject_keys(self) -> SubjectKeys:
        return self.runtime.subject_keys

    @property
    def accounts(self) -> Accounts:
        return self.runtime.accounts

    @property
    def oidc(self) -> Provider:
        return self.runtime.oidc

    @property
    def tombstones(self) -> TombstoneJournal:
        return self.runtime.tombstones

    @property
    def attestations(self) -> AttestationConfig:
        return self.runtime.attestations

    @property
    def verifier(self) -> VerifierConfig:
        return self.runtime.verifier

    @property
    def letters(self) -> LettersConfig:
        return self.runtime.letters

    @property
    def vouching(self) -> vouching.VouchingConfig:
        return self.runtime.vouching


@click.group()
@click.version_option("0.1.0", prog_name="kluis")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Kluis: privacy-first identity and consent service."""
    ctx.obj = CliRuntime()


@cli.group("db")
def db_cli() -> None:
    """Database schema migrations."""


@db_cli.command("upgrade")
@click.option("--revision", default="heads", show_default=True)
@click.pass_obj
def db_upgrade(obj: CliRuntime, revision: str) -> None:
    """Apply migrations up to REVISION."""
    migrate.upgrade(obj.settings.database_url, revision)
    click.echo(f"database at {revision} ({obj.db.dialect})")


@cli.command("serve")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="App processes (uvicorn workers) sharing the port; the background worker runs in "
    "one of them at a time (a lease in the database).",
)
@click.pass_obj
def serve(obj: CliRuntime, workers: int) -> None:
    """Start the web service (uvicorn) on KLUIS_HOST:KLUIS_PORT."""
    from service.app import create_app_from_runtime

    runtime = obj.runtime
    settings = runtime.settings
    with runtime.db.transaction() as session:
        if settings.production:
            runtime.keyring.active_key(session, "RS256")
            runtime.keyring.active_key(session, "ES256")
        else:
            created = runtime.keyring.ensure_keys(session)
            if created:
                log.warning("development signing keys created", extra={"kids": created})
        try:  # refuse now, not with a 500 at the first login that needs such a key
            check_wrapped_keys(session, wrapped_tables(obj))
        except UnwrappableKeys as exc:
            raise SettingsError(f"{exc} (KLUIS_PREVIOUS_KEY_ENCRYPTION_SECRETS)") from exc
    check_verifier_identity(settings)
    if isinstance(runtime.mailer, FileOutbox):
        runtime.mailer.announce()
    app = create_app_from_runtime(runtime, serving=True)
    click.echo(
        "\n".join(
            [
                "",
                f"  Kluis ({settings.mode}) is starting on {settings.issuer}",
                f"  Open          {settings.issuer}/",
                f"  Register      {settings.issuer}/register  (mail goes to the outbox folder"
                " in development)",
                f"  Discovery     {settings.issuer}/.well-known/openid-configuration",
                f"  Health        {settings.issuer}/healthz",
                f"  API docs      {settings.issuer}/api/docs",
                "  Add a platform  .venv/bin/kluis clients add --name N --redirect-uri URI --json",
                "  Operator CLI  .venv/bin/kluis --help",
                "",
            ]
        )
    )
    # Forwarding headers are the app's business (KLUIS_TRUSTED_PROXIES, default none): uvicorn
    # would otherwise believe X-Forwarded-For from 127.0.0.1, and anyone on the machine could
    # reset the per-address limits with it.
    # With several workers each process builds its own app from the same environment.
    several = workers > 1
    uvicorn.run(
        "service.app:app_from_environment" if several else app,
        factory=several,
        workers=workers if several else None,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        proxy_headers=False,
    )


@click.command("broker-jwk")
@click.option("--set", "as_set", is_flag=True, help='A JWK Set: {"keys": [JWK]}.')
def broker_jwk(as_set: bool) -> None:
    """Print the public half of KLUIS_UPSTREAM_ASSERTION_KEY_FILE as a JWK (kid, alg, use):
    what to register with the DigiD broker for private_key_jwt."""
    key = assertion_key(load_settings())
    if key is None:
        raise click.ClickException(
            "no assertion key: set KLUIS_UPSTREAM_CLIENT_AUTH=private_key_jwt and "
            "KLUIS_UPSTREAM_ASSERTION_KEY_FILE"
        )
    jwk = key.public_jwk()
    click.echo(json.dumps({"keys": [jwk]} if as_set else jwk, indent=2))


cli.add_command(keys_cli)
cli.add_command(secret_cli)
cli.add_command(audit_cli)
cli.add_command(clients_cli)
cli.add_command(accounts_cli)
cli.add_command(attestations_cli)
cli.add_command(letters_cli)
cli.add_command(verifier_cli)
cli.add_command(erasure_cli)
cli.add_command(vouching_cli)
cli.add_command(wallet_cli)
cli.add_command(backup_cli)
cli.add_command(restore_cli)
accounts_cli.add_command(delete_account)
keys_cli.add_command(keys_rotate_cli)  # audited, so above the audit log
attestations_cli.add_command(broker_jwk)  # reads the service's settings
for command in ACCOUNT_STATUS_COMMANDS:  # they end grants, so beside the OpenID provider
    accounts_cli.add_command(command)


def check_verifier_identity(settings: Settings) -> None:
    """Fail at start, not at the first wallet, when the verifier's X.509 files are wrong."""
    key, chain = settings.verifier_x509_key_file, settings.verifier_x509_chain_file
    if key is not None and chain is not None:
        try:
            request_signer(key, chain, settings.issuer)
        except X509ConfigError as exc:
            raise SettingsError(f"KLUIS_VERIFIER_X509_*: {exc}") from exc
    elif settings.production:
        log.error("no KLUIS_VERIFIER_X509_* certificate: verification sessions are refused")


def main() -> None:
    try:
        cli(standalone_mode=True)
    except SettingsError as exc:
        click.echo(f"kluis: configuration error: {exc}", err=True)
        sys.exit(2)
