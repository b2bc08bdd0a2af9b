"""`kluis letters generate|status|revoke`: a batch from an address list, all or nothing, and
overviews that hold nothing per address."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from pathlib import Path

from click.testing import CliRunner, Result
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from attestations.letters.cli import letters_cli
from attestations.letters.models import LetterBatch, LetterCode
from core.db import utcnow
from service.runtime import Runtime
from tests.support.audit import discloses
from tests.support.letters import HOUSE_NUMBERS, ROWS
from tests.support.pdf_text import page_texts


def invoke(runtime: Runtime, *args: str) -> Result:
    return CliRunner().invoke(letters_cli, list(args), obj=runtime)


def generate(runtime: Runtime, tmp_path: Path, rows: list[str], *extra: str) -> Result:
    source = tmp_path / "adressen.csv"
    source.write_text("\n".join(rows) + "\n", encoding="utf-8")
    until = (utcnow().date() + dt.timedelta(days=60)).isoformat()
    return invoke(
        runtime,
        "generate",
        "--input",
        str(source),
        "--municipality",
        "GM0363",
        "--municipality-name",
        "Amsterdam",
        "--valid-until",
        until,
        "--output",
        str(tmp_path / "out"),
        *extra,
    )


def batches(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(LetterBatch)) or 0


def test_generate_writes_the_letters_and_the_mail_merge_file_and_a_summary(
    runtime: Runtime, session: Session, tmp_path: Path
) -> None:
    result = generate(runtime, tmp_path, ROWS, "--per-address", "2", "--poll", "buurtbudget-2027")
    assert result.exit_code == 0, result.output
    assert "letters      6 (3 addresses × 2)" in result.output
    assert "2 postcode area(s); 2 address(es) with a CBS code" in result.output
    out = tmp_path / "out"
    with (out / "letters.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    pages = page_texts((out / "letters.pdf").read_bytes())
    assert len(rows) == len(pages) == 6
    for row, page in zip(rows, pages, strict=True):
        assert row["code"] in page and row["postcode"] in page
    assert session.scalar(select(func.count()).select_from(LetterCode)) == 6
    # the terminal shows no code and no address
    # (the batch id and the file paths aside: their digits are not the resident's)
    shown = [
        line for line in result.output.splitlines() if not line.startswith(("batch ", "written "))
    ]
    assert not any(row["code"] in result.output for row in rows)
    assert not any(re.search(rf"\b{n}\b", line) for n in HOUSE_NUMBERS for line in shown)


def test_a_bad_row_is_reported_by_line_and_nothing_is_written(
    runtime: Runtime, session: Session, tmp_path: Path
) -> None:
    before = batches(session)
    result = generate(runtime, tmp_path, [*ROWS, "1087AB,abc", "9999SS,1"])
    assert result.exit_code != 0
    assert "2 bad row(s), nothing was generated" in result.output
    assert "line 5: huisnummer" in result.output and "line 6: postcode" in result.output
    assert batches(session) == before
    assert not (tmp_path / "out").exists()


def test_existing_files_are_never_overwritten_and_then_nothing_is_stored(
    runtime: Runtime, session: Session, tmp_path: Path
) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "letters.csv").write_text("keep me")
    before = batches(session)
    result = generate(runtime, tmp_path, ROWS)
    assert result.exit_code != 0 and "exists already" in result.output
    assert (tmp_path / "out" / "letters.csv").read_text() == "keep me"
    assert batches(session) == before


def test_a_validity_beyond_a_year_is_refused(runtime: Runtime, tmp_path: Path) -> None:
    source = tmp_path / "a.csv"
    source.write_text("1087AB,1\n")
    too_late = (utcnow().date() + dt.timedelta(days=400)).isoformat()
    result = invoke(
        runtime,
        "generate",
        "--input",
        str(source),
        "--municipality",
        "GM0363",
        "--municipality-name",
        "Amsterdam",
        "--valid-until",
        too_late,
        "--output",
        str(tmp_path / "out"),
    )
    assert result.exit_code != 0 and "--valid-until" in result.output


def test_status_counts_per_area_and_revoke_takes_a_batch_or_a_code(
    runtime: Runtime, session: Session, tmp_path: Path
) -> None:
    assert generate(runtime, tmp_path, ROWS).exit_code == 0
    with (tmp_path / "out" / "letters.csv").open(newline="", encoding="utf-8") as handle:
        codes = [row["code"] for row in csv.DictReader(handle)]

    status = invoke(runtime, "status", "--json")
    assert status.exit_code == 0, status.output
    overview = json.loads(status.output)
    areas = {a["postcode_area"]: a["issued"] for a in overview["areas"]}
    assert areas["1087"] >= 2 and areas["1011"] >= 1
    assert not any(discloses(overview, n) for n in HOUSE_NUMBERS)
    assert "area   issued" in invoke(runtime, "status").output

    one = invoke(runtime, "revoke", "--code", codes[0])
    assert one.exit_code == 0 and "revoked 1 letter(s)" in one.output
    batch_id = overview["batches"][-1]["batch"]
    rest = invoke(runtime, "revoke", "--batch", batch_id)
    assert rest.exit_code == 0 and "revoked 2 letter(s)" in rest.output
    assert invoke(runtime, "revoke").exit_code != 0  # --batch or --code
    assert invoke(runtime, "revoke", "--batch", "no-such-batch").exit_code != 0
