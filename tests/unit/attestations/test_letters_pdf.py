"""The printable letters: one page per letter holding its own code, a mail-merge CSV that
matches the pages, and files that appear only when published."""

from __future__ import annotations

import csv
import datetime as dt
import stat
from pathlib import Path

import pytest

from attestations.letters import messages  # noqa: F401 (the printed texts)
from attestations.letters.codes import grouped, new_code
from attestations.letters.pdf import CSV_COLUMNS, pdf_names, write_letters
from attestations.letters.service import GeneratedBatch, Municipality, PrintedLetter
from tests.support.letters import addresses
from tests.support.pdf_text import page_texts

URL = "https://kluis.example.nl/letters/redeem"


def redeem_url(code: str | None) -> str:
    return f"{URL}?code={code}" if code else URL


def batch(per_address: int = 2, poll_id: str | None = "buurtbudget-2027") -> GeneratedBatch:
    letters = [
        PrintedLetter(n + 1, address, new_code())
        for n, address in enumerate(a for a in addresses() for _ in range(per_address))
    ]
    return GeneratedBatch(
        "b" * 32,
        Municipality("GM0363", "Amsterdam"),
        poll_id,
        dt.date(2027, 3, 31),
        dt.datetime(2027, 3, 31, 22, tzinfo=dt.UTC),
        letters,
    )


def test_each_page_is_one_letter_with_its_own_code_expiry_and_instructions(
    tmp_path: Path,
) -> None:
    generated = batch()
    files = write_letters(generated, redeem_url, tmp_path)
    files.publish()

    pages = page_texts((tmp_path / "letters.pdf").read_bytes())
    assert len(pages) == len(generated.letters) == 6
    for page, letter in zip(pages, generated.letters, strict=True):
        assert grouped(letter.code) in page
        assert all(
            grouped(other.code) not in page for other in generated.letters if other != letter
        )
        assert letter.address.label in page
        assert "Geldig tot en met 31 maart 2027" in page and "Valid until 31 March 2027" in page
        assert "Zo gebruik je de code" in page and "How to use the code" in page
        assert f"postcodegebied {letter.address.postcode[:4]}" in page
        assert "buurtbudget-2027" in page and URL in page


def test_the_mail_merge_csv_names_each_letters_page_address_code_and_expiry(
    tmp_path: Path,
) -> None:
    generated = batch(per_address=1, poll_id=None)
    write_letters(generated, redeem_url, tmp_path).publish()

    with (tmp_path / "letters.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == CSV_COLUMNS
    for row, letter in zip(rows, generated.letters, strict=True):
        assert row["pdf"] == "letters.pdf" and int(row["pagina"]) == letter.number
        assert (row["postcode"], row["huisnummer"]) == (
            letter.address.postcode,
            str(letter.address.huisnummer),
        )
        assert row["code"] == grouped(letter.code) and row["geldig_tot"] == "2027-03-31"
        assert row["link"] == redeem_url(letter.code)
    pages = page_texts((tmp_path / "letters.pdf").read_bytes())
    # without a poll, the letter says nothing about voting with the code
    assert not any("stemmen in:" in page or "stempagina" in page for page in pages)


def test_files_are_new_private_and_appear_only_when_published(tmp_path: Path) -> None:
    files = write_letters(batch(), redeem_url, tmp_path)
    assert not (tmp_path / "letters.pdf").exists() and not (tmp_path / "letters.csv").exists()
    files.publish()
    for name in ("letters.pdf", "letters.csv"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    with pytest.raises(FileExistsError):
        write_letters(batch(), redeem_url, tmp_path)


def test_discarded_files_leave_nothing_behind(tmp_path: Path) -> None:
    write_letters(batch(), redeem_url, tmp_path).discard()
    assert list(tmp_path.iterdir()) == []


def test_large_batches_are_split_into_numbered_pdfs() -> None:
    assert pdf_names(10_000) == ["letters.pdf"]
    assert pdf_names(25_000) == ["letters-001.pdf", "letters-002.pdf", "letters-003.pdf"]
