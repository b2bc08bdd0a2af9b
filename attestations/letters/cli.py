"""`kluis letters …`: generate a batch of letters with one-time codes, see how many were used
per postcode area, and revoke a batch or one code."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, Protocol

import click

from attestations.letters import messages  # noqa: F401 (the printed texts)
from attestations.letters.addresses import AddressListError, read_addresses
from attestations.letters.admin import Revoked, letters_status, revoke_batch, revoke_code
from attestations.letters.config import MAX_VALIDITY, LettersConfig
from attestations.letters.pdf import LetterFiles, write_letters
from attestations.letters.service import MAX_PER_ADDRESS, Municipality, generate_letters
from core import Database, Problem

ACTOR = "operator:cli"


class LettersRuntime(Protocol):
    @property
    def db(self) -> Database: ...
    @property
    def letters(self) -> LettersConfig: ...


@click.group("letters")
def letters_cli() -> None:
    """Letters with a one-time code: postcode proof and voting on paper."""


def _read(path: Path, municipality_code: str) -> list[Any]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return read_addresses(handle, municipality_code)
    except UnicodeDecodeError:
        raise click.ClickException(f"{path} is not UTF-8 text") from None
    except AddressListError as exc:
        raise click.ClickException(
            f"{path}: {len(exc.problems)} bad row(s), nothing was generated:\n{exc}"
        ) from None


@letters_cli.command("generate")
@click.option(
    "--input",
    "input_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV rows postcode,huisnummer[,toevoeging][,buurtcode] (a header row is allowed).",
)
@click.option("--municipality", "code", required=True, help="CBS gemeentecode, e.g. GM0363.")
@click.option(
    "--municipality-name",
    "name",
    required=True,
    help="The municipality's name, as the credentials name it (e.g. Amsterdam).",
)
@click.option(
    "--valid-until",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help=f"Last day a code works (YYYY-MM-DD, at most {MAX_VALIDITY.days} days ahead).",
)
@click.option(
    "--per-address",
    default=1,
    show_default=True,
    type=click.IntRange(1, MAX_PER_ADDRESS),
    help="Letters (codes) per address.",
)
@click.option("--poll", "poll_id", default=None, help="The poll the codes are for (poll_id).")
@click.option(
    "--output",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for letters.pdf and letters.csv (new files only).",
)
@click.pass_obj
def generate(
    runtime: LettersRuntime,
    input_path: Path,
    code: str,
    name: str,
    valid_until: dt.datetime,
    per_address: int,
    poll_id: str | None,
    output: Path,
) -> None:
    """Generate letters: codes stored as keyed hashes, a PDF with one letter per page and a
    CSV for mail merge. Every row is checked first; nothing is written if one is bad."""
    try:
        municipality = Municipality(code.strip().upper(), name)
    except Problem as exc:
        raise click.BadParameter(exc.detail, param_hint="--municipality") from None
    addresses = _read(input_path, municipality.code)
    config = runtime.letters
    total = len(addresses) * per_address
    files: LetterFiles | None = None
    with click.progressbar(length=2 * total, label=f"{total} letters: codes, then pages") as bar:
        try:
            with runtime.db.transaction() as session:
                batch = generate_letters(
                    session,
                    config,
                    addresses=addresses,
                    municipality=municipality,
                    valid_until=valid_until.date(),
                    per_address=per_address,
                    poll_id=poll_id,
                    actor=ACTOR,
                    progress=bar.update,
                )
                files = write_letters(batch, config.redeem_url, output, progress=bar.update)
        except BaseException as exc:
            if files is not None:  # written, but the batch was not committed
                files.discard()
            if isinstance(exc, Problem):
                raise click.ClickException(exc.detail) from None
            if isinstance(exc, FileExistsError):
                raise click.ClickException(str(exc)) from None
            raise
    assert files is not None
    files.publish()  # the batch is committed: now the files may appear
    areas = len({a.postcode[:4] for a in addresses})
    with_codes = sum(1 for a in addresses if a.buurtcode)
    click.echo(
        "\n".join(
            [
                f"batch        {batch.batch_id}",
                f"letters      {total} ({len(addresses)} addresses × {per_address})",
                f"areas        {areas} postcode area(s); {with_codes} address(es) with a CBS code",
                f"poll         {poll_id or '-'}",
                f"valid until  {batch.valid_until.isoformat()} "
                f"(expires {batch.expires_at:%Y-%m-%d %H:%M} UTC)",
                *(f"written      {path}" for path in files.paths),
                "These files hold the codes, which Kluis does not keep: store them safely and "
                "delete them once the letters are printed.",
            ]
        )
    )


@letters_cli.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def status(runtime: LettersRuntime, as_json: bool) -> None:
    """Letters per batch, and issued/redeemed per postcode area (nothing per address)."""
    with runtime.db.transaction() as session:
        overview = letters_status(session)
    if as_json:
        click.echo(json.dumps(overview, indent=2))
        return
    for b in overview["batches"]:
        state = "revoked" if b["revoked"] else "active"
        click.echo(
            f"batch {b['batch']}  {b['municipality_code']}  {b['letters']} letters  "
            f"poll {b['poll_id'] or '-'}  expires {b['expires_at']}  {state}"
        )
    click.echo("area   issued  redeemed  voted_on_paper  revoked  expired_unused")
    for a in overview["areas"]:
        click.echo(
            f"{a['postcode_area'] or 'erased':<6} {a['issued']:>6} {a['redeemed']:>9} "
            f"{a['voted_on_paper']:>15} {a['revoked']:>8} {a['expired_unused']:>15}"
        )


def _said(outcome: Revoked) -> str:
    return f"revoked {outcome.letters} letter(s) and {outcome.credentials} credential(s) from them"


@letters_cli.command("revoke")
@click.option("--batch", "batch_id", default=None, help="Revoke every code of this batch.")
@click.option("--code", default=None, help="Revoke one code (as printed on the letter).")
@click.pass_obj
def revoke(runtime: LettersRuntime, batch_id: str | None, code: str | None) -> None:
    """Revoke a batch or one code: the codes are refused from now on, and the credentials
    they gave are revoked on their status list."""
    if (batch_id is None) == (code is None):
        raise click.UsageError("give either --batch or --code")
    try:
        with runtime.db.transaction() as session:
            if batch_id is not None:
                outcome = revoke_batch(session, batch_id, ACTOR)
            else:
                assert code is not None
                config = runtime.letters
                outcome = revoke_code(session, config, code, ACTOR)
    except Problem as exc:
        raise click.ClickException(exc.detail) from None
    click.echo(_said(outcome))
