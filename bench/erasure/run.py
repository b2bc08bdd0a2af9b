"""Benchmark: N erasures propagated to P platforms through the persistent outbox while a share
of the platforms' answers fail (HTTP 503). Prints the time to execute the erasures, the time
until every request is `completed`, attempts, and events lost or duplicated (both must be 0).

    .venv/bin/python bench/erasure/run.py --erasures 1000 --platforms 5 --failure-rate 0.2

Platforms are in-process (httpx.MockTransport); the database is a fresh SQLite file unless
--database-url is given. Backoff is shortened to milliseconds so the run measures Kluis, not
the wait. Not a test: it never fails on time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import jwt
from pydantic import SecretStr
from sqlalchemy import func, select

from adapters import outbox as outbox_module
from consent.ledger import record_decision
from identity.accounts.models import AccountStatus
from identity.accounts.service import create_account
from identity.oidc.clients import ClientSpec, create_client
from rights.erasure import execute_erasure
from rights.lifecycle import COMPLETED, refresh_erasure_states
from rights.models import ErasureRequest
from service import migrate
from service.runtime import build_runtime
from service.settings import Settings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--erasures", type=int, default=1000)
    parser.add_argument("--platforms", type=int, default=5)
    parser.add_argument("--failure-rate", type=float, default=0.2)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="kluis-bench-erasure-"))
    url = args.database_url or f"sqlite:///{work / 'bench.sqlite3'}"
    migrate.upgrade(url)
    settings = Settings(
        mode="development",
        issuer="http://127.0.0.1:9",
        data_dir=work,
        database_url=url,
        secret_key=SecretStr("bench-only-key-encryption-material-0123456789"),
        outbox_worker=False,
    )
    runtime = build_runtime(settings)
    outbox_module.backoff = lambda attempts: dt.timedelta(milliseconds=1)  # measure Kluis

    with runtime.db.transaction() as session:
        runtime.keyring.ensure_keys(session)
        clients = []
        for i in range(args.platforms):
            host = f"platform{i}.example"
            spec = ClientSpec(
                name=f"Platform {i}",
                redirect_uris=[f"https://{host}/cb"],
                events_uri=f"https://{host}/events",
                backchannel_logout_uri=f"https://{host}/backchannel",
            )
            clients.append(create_client(session, spec)[0].client_id)
    accounts = []
    with runtime.db.transaction() as session:
        for n in range(args.erasures):
            account = create_account(
                runtime.accounts,
                session,
                email=f"bewoner{n}@example.org",
                name=f"Bewoner {n}",
                password_hash=None,
                status=AccountStatus.ACTIVE,
                email_verified=True,
            )
            ref = runtime.subject_keys.reference(session, account.id)
            for client_id in clients:
                record_decision(
                    session,
                    account_id=account.id,
                    subject_ref=ref,
                    client_id=client_id,
                    given=["email"],
                    refused=[],
                )
            accounts.append(account.id)

    started = time.perf_counter()
    for account_id in accounts:
        with runtime.db.transaction() as session:
            execute_erasure(
                session,
                runtime.oidc,
                account_id=account_id,
                requested_by="operator",
                actor="operator:bench",
            )
    executed = time.perf_counter() - started

    delivered: dict[str, int] = {}
    attempts = failures = 0

    def platform(request: httpx.Request) -> httpx.Response:
        nonlocal attempts, failures
        attempts += 1
        if rng.random() < args.failure_rate:
            failures += 1
            return httpx.Response(503)
        body = request.content.decode()
        token = parse_qs(body)["logout_token"][0] if body.startswith("logout_token=") else body
        jti = jwt.decode(token, options={"verify_signature": False})["jti"]
        delivered[jti] = delivered.get(jti, 0) + 1
        return httpx.Response(202)

    propagation_started = time.perf_counter()
    with httpx.Client(transport=httpx.MockTransport(platform)) as http:
        while True:
            rounds = runtime.outbox.deliver_due(http, limit=1000)
            with runtime.db.transaction() as session:
                refresh_erasure_states(session)
                open_requests = session.scalar(
                    select(func.count()).where(ErasureRequest.status != COMPLETED)
                )
            if not open_requests:
                break
            if not rounds:
                time.sleep(0.005)
    propagated = time.perf_counter() - propagation_started

    expected = args.erasures * args.platforms * 2  # a SET and a logout token per platform
    lost = expected - len(delivered)
    duplicated = sum(1 for count in delivered.values() if count > 1)
    print(
        f"erasures            {args.erasures} × {args.platforms} platforms "
        f"({expected} deliveries), failure rate {args.failure_rate:.0%}, {runtime.db.dialect}"
    )
    print(f"execute             {executed:8.2f} s  ({args.erasures / executed:8.1f} erasures/s)")
    print(f"propagate→complete  {propagated:8.2f} s  ({expected / propagated:8.1f} deliveries/s)")
    print(f"attempts            {attempts} ({failures} injected failures)")
    print(f"events lost         {lost}")
    print(f"events duplicated   {duplicated}")
    return 0 if lost == 0 and duplicated == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
