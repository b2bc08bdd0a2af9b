"""Letters benchmark: generating codes and printable pages for a batch, and redeeming codes.

    .venv/bin/python bench/letters/run.py --addresses 10000 --redemptions 1000 --concurrency 1,4

1. **Codes**: reads a synthetic address list of `--addresses` rows (postcode, house number,
   every third with a CBS buurtcode), then `generate_letters` stores one code per address
   (keyed hash, postcode, area) in one transaction with its audit entry, committed. Prints
   addresses/s parsed, codes/s stored, and the floor: making and hashing codes alone.
2. **PDF pages**: `write_letters` renders the batch (one A4 page per letter with its QR code,
   compressed) and the mail-merge CSV into a temporary directory. Prints pages/s and bytes
   per page.
3. **Redemptions**: `--redemptions` codes, each by its own account from its own address,
   `redeem_letter` in its own transaction (the attempt counted and committed first, the code
   looked up, the letter taken by a conditional UPDATE, a credential offer made and audited),
   with 1 and 4 threads (`--concurrency`). Prints redemptions/s and p50/p95.

In-process (no HTTP), on a fresh SQLite file, or on a fresh schema of
`KLUIS_BENCH_DATABASE_URL` (PostgreSQL), dropped afterwards. No peer implementation exists to
compare with, so only Kluis's figures are printed. A benchmark, not a test: it never fails on
time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from pydantic import SecretStr  # noqa: E402

from attestations.letters.addresses import read_addresses  # noqa: E402
from attestations.letters.codes import CodeHasher, new_code  # noqa: E402
from attestations.letters.config import letters_config  # noqa: E402
from attestations.letters.pdf import write_letters  # noqa: E402
from attestations.letters.service import (  # noqa: E402
    Municipality,
    generate_letters,
    redeem_letter,
)
from core.db import Database, utcnow  # noqa: E402
from identity.accounts.models import Account  # noqa: E402
from keys import SubjectKeys  # noqa: E402
from service import migrate  # noqa: E402
from service.settings import Settings  # noqa: E402
from tests.support.databases import drop_database  # noqa: E402

SECRET = "bench-only-key-encryption-material-0123456789"
LETTERS = "ABCDEFGHJKLMNPRTUVWXYZ"  # postcode letters (no SA, SD, SS combinations come up)


def database_url(work: Path) -> str:
    """SQLite in the work dir, or a fresh schema in KLUIS_BENCH_DATABASE_URL (PostgreSQL)."""
    base = os.environ.get("KLUIS_BENCH_DATABASE_URL")
    if not base:
        return f"sqlite:///{work / 'bench.sqlite3'}"
    os.environ["KLUIS_TEST_DATABASE_URL"] = base
    from tests.support.databases import fresh_database_url

    return fresh_database_url(work)


def address_rows(count: int) -> list[str]:
    """A header and `count` distinct addresses, 40 per postcode, in municipality 0363."""
    rows = ["postcode,huisnummer,toevoeging,buurtcode"]
    for n in range(count):
        street = n // 40
        postcode = f"{1000 + street // 400}{LETTERS[street // 22 % 22]}{LETTERS[street % 22]}"
        buurt = f"BU0363{street % 100:02d}{n % 7:02d}" if n % 3 == 0 else ""
        rows.append(f"{postcode},{n % 40 + 1},,{buurt}")
    return rows


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:>10,.0f} /s  ({seconds:.2f} s for {count:,})"


def make_accounts(database: Database, subject_keys: SubjectKeys, count: int) -> list[str]:
    ids = [uuid.uuid4().hex for _ in range(count)]
    with database.transaction() as session:
        for account_id in ids:
            subject_keys.create(session, account_id)
            session.add(
                Account(
                    id=account_id,
                    handle=f"bewoner-{account_id[:12]}",
                    email_verified=False,
                    status="active",
                    created_at=utcnow(),
                )
            )
    return ids


def redemptions(
    database: Database,
    config: Any,
    subject_keys: SubjectKeys,
    codes: list[str],
    accounts: list[str],
    threads: int,
) -> dict[str, float]:
    jobs = iter(zip(codes, accounts, strict=True))
    lock = threading.Lock()
    latencies: list[float] = []
    numbers = itertools.count()

    def worker() -> None:
        while True:
            with lock:
                job = next(jobs, None)
            if job is None:
                return
            code, account = job
            n = next(numbers)
            started = time.perf_counter()
            with database.session() as session:
                redeem_letter(
                    session,
                    config,
                    subject_keys,
                    account_id=account,
                    code=code,
                    ip=f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}",
                )
                session.commit()
            with lock:
                latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        for future in [pool.submit(worker) for _ in range(threads)]:
            future.result()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "threads": threads,
        "redemptions": len(latencies),
        "per_second": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": latencies[int(len(latencies) * 0.95) - 1] * 1000,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--addresses", type=int, default=10_000)
    parser.add_argument("--redemptions", type=int, default=1_000)
    parser.add_argument("--concurrency", default="1,4")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    threads = [int(c) for c in args.concurrency.split(",")]
    needed = args.redemptions * len(threads)
    if needed > args.addresses:
        parser.error(f"--addresses must be at least {needed} (redemptions × concurrency runs)")

    work = Path(tempfile.mkdtemp(prefix="kluis-bench-letters-"))
    url = database_url(work)
    figures: dict[str, Any] = {"addresses": args.addresses}
    try:
        migrate.upgrade(url)
        settings = Settings(
            mode="development",
            issuer="https://kluis.example.nl",
            data_dir=work,
            database_url=url,
            secret_key=SecretStr(SECRET),
            outbox_worker=False,
        )
        database = Database.from_url(url, pool_size=max(threads) + 1)
        subject_keys = SubjectKeys(SECRET.encode())
        config = letters_config(settings)
        print(f"letters benchmark on {database.dialect}, {args.addresses:,} addresses")

        rows = address_rows(args.addresses)
        started = time.perf_counter()
        addresses = read_addresses(rows, "GM0363")
        parsed = time.perf_counter() - started

        hasher = CodeHasher(SECRET.encode())
        started = time.perf_counter()
        for _ in range(args.addresses):
            hasher(new_code())
        floor = time.perf_counter() - started

        started = time.perf_counter()
        with database.transaction() as session:
            batch = generate_letters(
                session,
                config,
                addresses=addresses,
                municipality=Municipality("GM0363", "Amsterdam"),
                valid_until=utcnow().date() + dt.timedelta(days=60),
                poll_id="buurtbudget-2027",
                actor="operator:bench",
            )
        stored = time.perf_counter() - started
        print(f"address list parsed   {rate(args.addresses, parsed)}")
        print(f"codes made + hashed   {rate(args.addresses, floor)}  (floor)")
        print(f"codes stored          {rate(args.addresses, stored)}  (one transaction)")

        started = time.perf_counter()
        files = write_letters(batch, config.redeem_url, work / "out")
        rendered = time.perf_counter() - started
        size = sum(p.stat().st_size for p in (work / "out").iterdir())
        files.discard()
        pages = len(batch.letters)
        print(f"PDF pages + CSV       {rate(pages, rendered)}  ({size / pages:,.0f} bytes/letter)")
        figures.update(
            parse_per_second=args.addresses / parsed,
            codes_floor_per_second=args.addresses / floor,
            codes_per_second=args.addresses / stored,
            pages_per_second=pages / rendered,
            bytes_per_letter=size / pages,
        )

        codes = [letter.code for letter in batch.letters]
        figures["redemptions"] = []
        for n, count in enumerate(threads):
            accounts = make_accounts(database, subject_keys, args.redemptions)
            chunk = codes[n * args.redemptions : (n + 1) * args.redemptions]
            result = redemptions(database, config, subject_keys, chunk, accounts, count)
            figures["redemptions"].append(result)
            print(
                f"redemptions, {count} thread(s) {result['per_second']:>8,.1f} /s  "
                f"(p50 {result['p50_ms']:.1f} ms, p95 {result['p95_ms']:.1f} ms)"
            )
        database.dispose()
    finally:
        if not url.startswith("sqlite"):
            drop_database(url)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
