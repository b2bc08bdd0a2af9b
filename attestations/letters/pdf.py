"""The printable letters (fpdf2) and the mail-merge file of a batch.

One A4 page per letter: who it is for (postcode and house number only), the code, large and
in groups of three, a QR code to the redeem page with the code filled in, the last day it is
valid, and what to do, in plain Dutch (B1) and in English (texts in `messages.py`). The QR code
is drawn as rectangles from its module matrix, not as an image, which keeps 10 000 pages fast
and small. Next to the PDF, `letters.csv` gives the print house each letter's page, address
columns, code and expiry.

These files are the only place the codes exist: they are written to new files only (mode
0600, never over existing ones), under temporary names until the batch is committed
(`LetterFiles.publish`), and nothing about them is logged but counts.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import qrcode
import qrcode.constants
from fpdf import FPDF

from attestations.letters.codes import grouped
from attestations.letters.service import GeneratedBatch, PrintedLetter
from core import i18n

PAGES_PER_PDF = 10_000  # larger batches are split into letters-001.pdf, letters-002.pdf, …
CSV_NAME = "letters.csv"
CSV_COLUMNS = (
    "brief",
    "pdf",
    "pagina",
    "postcode",
    "huisnummer",
    "toevoeging",
    "code",
    "geldig_tot",
    "link",
)
MARGIN = 20.0  # mm
QR_SIZE = 42.0  # mm, quiet zone included
LANGS = ("nl", "en")


def _latin1(text: str) -> str:
    """The PDF's standard fonts speak Latin-1: anything else becomes its nearest ASCII."""
    swaps = {"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "…": "..."}
    return "".join(swaps.get(c, c) for c in text).encode("latin-1", "replace").decode("latin-1")


def _t(lang: str, key: str, **params: object) -> str:
    return _latin1(i18n.translate(lang, key, **params))


def draw_qr(pdf: FPDF, data: str, x: float, y: float, size: float) -> None:
    """A QR code (error correction M, 4-module quiet zone) as filled rectangles, one per run
    of dark modules in a row."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(data)
    code.make(fit=True)
    matrix = code.get_matrix()
    module = size / len(matrix)
    pdf.set_fill_color(0, 0, 0)
    for row_index, row in enumerate(matrix):
        start = None
        for col, dark in enumerate([*row, False]):
            if dark and start is None:
                start = col
            elif not dark and start is not None:
                pdf.rect(
                    x + start * module, y + row_index * module, (col - start) * module, module, "F"
                )
                start = None


@dataclass(frozen=True)
class LetterLayout:
    """What every page of a batch shares."""

    municipality: str
    valid_until: dict[str, str]  # per language, written out
    poll_id: str | None
    redeem_url: Callable[[str | None], str]


class _Paragraphs:
    """Line breaks of the letter's paragraphs, computed once per text: every page of a batch
    repeats them, and fpdf2's line breaking is most of a page's time."""

    def __init__(self, pdf: FPDF, width: float) -> None:
        self._pdf = pdf
        self._width = width
        self._lines: dict[tuple[str, str], list[str]] = {}

    def write(self, text: str, style: str = "", size: float = 10.5, height: float = 5) -> None:
        pdf = self._pdf
        pdf.set_font("Helvetica", style, size)
        lines = self._lines.get((style, text))
        if lines is None:
            broken = pdf.multi_cell(self._width, height, text, dry_run=True, output="LINES")
            assert isinstance(broken, list)
            lines = self._lines[(style, text)] = broken
        for line in lines:
            pdf.set_x(MARGIN)
            pdf.cell(self._width, height, line)
            pdf.ln(height)


def _page(pdf: FPDF, paragraphs: _Paragraphs, layout: LetterLayout, letter: PrintedLetter) -> None:
    pdf.add_page()
    width = pdf.w - 2 * MARGIN
    pdf.set_xy(MARGIN, MARGIN)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(width, 6, _latin1(layout.municipality), align="R")
    # the address block sits where a window envelope shows it
    pdf.set_xy(MARGIN, 50)
    pdf.set_font("Helvetica", "", 11)
    pdf.cell(0, 5.5, f"{_t('nl', 'letters.print.to')} / {_t('en', 'letters.print.to')}")
    pdf.set_xy(MARGIN, 56)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 6, _latin1(letter.address.label))
    top = 85.0
    pdf.set_xy(MARGIN, top)
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 8, f"{_t('nl', 'letters.print.title')} / {_t('en', 'letters.print.title')}")
    pdf.set_xy(MARGIN, top + 14)
    pdf.set_font("Courier", "B", 26)
    pdf.cell(width - QR_SIZE - 5, 12, grouped(letter.code))
    pdf.set_xy(MARGIN, top + 30)
    pdf.set_font("Helvetica", "", 11)
    for lang in LANGS:
        pdf.cell(0, 5.5, _t(lang, "letters.print.valid", date=layout.valid_until[lang]))
        pdf.ln(5.5)
    draw_qr(pdf, layout.redeem_url(letter.code), pdf.w - MARGIN - QR_SIZE, top + 2, QR_SIZE)
    pdf.set_xy(MARGIN, top + 50)
    area = letter.address.postcode[:4]
    url = layout.redeem_url(None)
    for lang in LANGS:
        text = [_t(lang, "letters.print.what", area=area)]
        if layout.poll_id is not None:
            text.append(_t(lang, "letters.print.poll", poll=_latin1(layout.poll_id)))
        paragraphs.write(" ".join(text))
        pdf.ln(1.5)
        paragraphs.write(_t(lang, "letters.print.how"), "B")
        for step in ("step1", "step2", "step3"):
            paragraphs.write(_t(lang, f"letters.print.{step}", url=url))
        if layout.poll_id is not None:
            paragraphs.write(_t(lang, "letters.print.paper"))
        paragraphs.write(_t(lang, "letters.print.careful"), "B")
        pdf.ln(6)


def render_pdf(
    layout: LetterLayout,
    letters: Sequence[PrintedLetter],
    *,
    compress: bool = True,
    progress: Callable[[int], None] | None = None,
) -> bytes:
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_compression(compress)
    pdf.set_auto_page_break(False)
    pdf.set_creator("Kluis")
    pdf.set_title(_latin1(f"{layout.municipality}: letters"))
    paragraphs = _Paragraphs(pdf, pdf.w - 2 * MARGIN)
    for letter in letters:
        _page(pdf, paragraphs, layout, letter)
        if progress is not None:
            progress(1)
    return bytes(pdf.output())


def _exclusive(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


@dataclass
class LetterFiles:
    """The batch's files, written under temporary names until `publish` renames them."""

    directory: Path
    names: list[str]
    _pending: list[tuple[Path, Path]] = field(default_factory=list, repr=False)

    @property
    def paths(self) -> list[Path]:
        return [self.directory / name for name in self.names]

    def publish(self) -> None:
        for temporary, final in self._pending:
            os.link(temporary, final)  # fails rather than overwrite a file that appeared since
            temporary.unlink()
        self._pending.clear()

    def discard(self) -> None:
        for temporary, _ in self._pending:
            temporary.unlink(missing_ok=True)
        self._pending.clear()


def pdf_names(count: int) -> list[str]:
    chunks = (count + PAGES_PER_PDF - 1) // PAGES_PER_PDF
    if chunks <= 1:
        return ["letters.pdf"]
    return [f"letters-{n:03d}.pdf" for n in range(1, chunks + 1)]


def _csv_bytes(
    batch: GeneratedBatch, layout: LetterLayout, names: list[str], valid_until: str
) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for index, letter in enumerate(batch.letters):
        address = letter.address
        writer.writerow(
            [
                letter.number,
                names[index // PAGES_PER_PDF],
                index % PAGES_PER_PDF + 1,
                address.postcode,
                address.huisnummer,
                address.toevoeging,
                grouped(letter.code),
                valid_until,
                layout.redeem_url(letter.code),
            ]
        )
    return buffer.getvalue().encode("utf-8")


def write_letters(
    batch: GeneratedBatch,
    redeem_url: Callable[[str | None], str],
    directory: Path,
    *,
    compress: bool = True,
    progress: Callable[[int], None] | None = None,
) -> LetterFiles:
    """Render the batch's PDF(s) and mail-merge CSV into `directory` under temporary names.
    Refuses (FileExistsError) when a file of that name is there already."""
    directory.mkdir(parents=True, exist_ok=True)
    names = [*pdf_names(len(batch.letters)), CSV_NAME]
    for name in names:
        if (directory / name).exists():
            raise FileExistsError(f"{directory / name} exists already; choose another --output")
    layout = LetterLayout(
        municipality=batch.municipality.name,
        valid_until={lang: i18n.format_date(batch.valid_until, lang) for lang in LANGS},
        poll_id=batch.poll_id,
        redeem_url=redeem_url,
    )
    files = LetterFiles(directory, names)
    try:
        for index, name in enumerate(names[:-1]):
            part = batch.letters[index * PAGES_PER_PDF : (index + 1) * PAGES_PER_PDF]
            data = render_pdf(layout, part, compress=compress, progress=progress)
            files._pending.append(_temporary(directory / name, data))
        csv_data = _csv_bytes(batch, layout, names[:-1], batch.valid_until.isoformat())
        files._pending.append(_temporary(directory / CSV_NAME, csv_data))
    except BaseException:
        files.discard()
        raise
    return files


def _temporary(final: Path, data: bytes) -> tuple[Path, Path]:
    temporary = final.with_name(f".{final.name}.{os.getpid()}.partial")
    _exclusive(temporary, data)
    return temporary, final
