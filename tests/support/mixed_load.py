"""A mixed load of what residents and platforms do, as operations against running Kluis
processes (tests/support/server.py): the soak (bench/soak) runs it for minutes, the failover
test (tests/e2e/test_failover.py) across a PostgreSQL failover.

Each operation takes a base URL and a sequence number, returns normally when every request
of it was answered with success (or the name it was counted under instead), and raises
otherwise. What an operation wrote and was told had been written is recorded in
`acknowledged`, so that a test can look for each of those writes afterwards.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from attestations.config import AttestationConfig
from attestations.issuance import create_offer
from attestations.sdjwt import HeldSdJwt
from identity.accounts.service import find_by_email
from service.runtime import build_runtime
from service.settings import load_settings
from tests.support import forms
from tests.support.live_kluis import add_client, add_resident
from tests.support.server import LiveServer
from tests.support.wallet import StoredCredential, Wallet

PASSWORD = "een lang en sterk wachtwoord"
REDIRECT_URI = "http://127.0.0.1:9/cb"
POSTCODE = {
    "postcode": "1087 AB",
    "municipality": {"code": "GM0363", "name": "Amsterdam"},
    "residence_source": "registry",
}
AREA_QUERY = {
    "credentials": [
        {
            "id": "residence",
            "format": "dc+sd-jwt",
            "meta": {"vct_values": []},
            "claims": [{"path": ["postcode_area"]}],
        }
    ]
}
# all load comes from 127.0.0.1: the per-address limits would stop it
UNLIMITED_ENV = {
    "KLUIS_LOGIN_MAX_FAILURES_PER_IP": "1000000",
    "KLUIS_WALLET_LOGIN_MAX_STARTS_PER_IP": "1000000",
}


@dataclass
class Acknowledged:
    """Writes that were answered with success, by what identifies them in the database and
    in the audit log."""

    access_tokens: list[str] = field(default_factory=list)  # login: the code flow's token
    # issue: the credential's status list entry, "<status list id>:<idx>" (one issued row)
    issued_credentials: list[str] = field(default_factory=list)
    sessions_created: list[str] = field(default_factory=list)  # `verifier.session_created`
    sessions_cancelled: list[str] = field(default_factory=list)  # `verifier.session_cancelled`
    sessions_presented: list[str] = field(default_factory=list)  # `verifier.presented`
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, kind: str, value: str) -> None:
        with self.lock:
            getattr(self, kind).append(value)


def create_offers(server: LiveServer, email: str, count: int) -> list[dict[str, Any]]:
    """`count` postcode offers for the resident `email` on `server`'s deployment, as
    `kluis attestations offer --json` prints them: made here in one transaction with the
    function that command calls (starting the CLI once per offer takes a second each)."""
    settings = load_settings(
        data_dir=Path(server.env["KLUIS_DATA_DIR"]),
        database_url=server.env["KLUIS_DATABASE_URL"],
        issuer=server.env["KLUIS_ISSUER"],
    )
    runtime = build_runtime(settings)
    config = AttestationConfig(settings.issuer, offer_ttl=dt.timedelta(days=1))
    try:
        with runtime.db.transaction() as session:
            account = find_by_email(runtime.accounts, session, email)
            assert account is not None, "add the resident first"
            created = [
                create_offer(
                    session,
                    runtime.subject_keys,
                    config,
                    account_id=account.id,
                    type_id="postcode",
                    claims=POSTCODE,
                    actor="operator:cli",
                )
                for _ in range(count)
            ]
    finally:
        runtime.db.dispose()
    return [offer.as_dict() for offer in created]


def area_query(base: str) -> dict[str, Any]:
    """The DCQL query for a postcode area; each process has its own issuer URL, so its vct."""
    query: dict[str, Any] = json.loads(json.dumps(AREA_QUERY))
    query["credentials"][0]["meta"]["vct_values"] = [f"{base}/vct/postcode"]
    return query


class MixedLoad:
    """Residents, one platform and prepared credential offers on `servers` (one deployment:
    one database). Offers and the presenting wallet's credential name the first server's
    issuer URL; the database is the same."""

    def __init__(self, servers: tuple[LiveServer, ...], residents: int, offers: int) -> None:
        self.servers = servers
        first = servers[0]
        self.client = add_client(first, "Load platform", REDIRECT_URI)
        self.auth = (self.client["client_id"], self.client["client_secret"])
        self.emails = [f"load{n}@example.org" for n in range(residents)]
        for email in self.emails:
            add_resident(first, email, PASSWORD)
        # one more for the presenting wallets' credential
        *self.offers, self._holder_offer = create_offers(first, self.emails[0], offers + 1)
        self.offer_lock = threading.Lock()
        self.acknowledged = Acknowledged()
        self._credential: StoredCredential | None = None

    def base(self, n: int) -> str:
        return self.servers[n % len(self.servers)].url

    # --- operations: each returns normally or raises -------------------------------------
    def login(self, base: str, n: int) -> None:
        """A whole code flow: authorize, password login, consent, /token (PKCE), /userinfo."""
        with httpx.Client(timeout=30) as http:
            token = forms.code_flow(
                http,
                base,
                self.client,
                redirect_uri=REDIRECT_URI,
                email=self.emails[n % len(self.emails)],
                password=PASSWORD,
                state=f"s{n}",
            )
            token.raise_for_status()
            access_token = token.json()["access_token"]
            self.acknowledged.add("access_tokens", access_token)
            info = http.get(base + "/userinfo", headers={"Authorization": f"Bearer {access_token}"})
            info.raise_for_status()

    def failed_login(self, base: str, n: int) -> None:
        """A wrong password for an unknown address (answered 400)."""
        with httpx.Client(timeout=30) as http:
            fields = {"email": f"onbekend{n}@example.org", "password": "fout"}
            status = forms.send(http, forms.prepared(http, base + "/login", fields)).status_code
            if status != 400:
                raise RuntimeError(f"failed login answered {status}")

    def verify(self, base: str, n: int) -> None:
        """A platform creates a verification session, reads its status, cancels it."""
        created = self._create_session(base)
        session_id = created["session_id"]
        url = f"{base}/verifier/sessions/{session_id}"
        httpx.get(url, auth=self.auth, timeout=30).raise_for_status()
        httpx.delete(url, auth=self.auth, timeout=30).raise_for_status()
        self.acknowledged.add("sessions_cancelled", session_id)

    def _create_session(self, base: str) -> dict[str, Any]:
        """A platform creates a verification session for a postcode area (acknowledged)."""
        response = httpx.post(
            base + "/verifier/sessions",
            json={"purpose": "Load", "dcql_query": area_query(base)},
            auth=self.auth,
            timeout=30,
        )
        response.raise_for_status()
        created: dict[str, Any] = response.json()
        self.acknowledged.add("sessions_created", created["session_id"])
        return created

    def issue(self, base: str, n: int) -> str | None:
        """A wallet redeems a prepared credential offer (token with tx_code, nonce,
        credential); when they have run out, read metadata instead (and say so: the
        operation is counted under that name)."""
        with self.offer_lock:
            if not self.offers:
                self.metadata(base, n)
                return "metadata"
            offer = self.offers.pop()
        with Wallet.over_http(self.servers[0].url) as wallet:
            [stored] = wallet.accept(offer["offer_uri"], offer["tx_code"])
        status = HeldSdJwt.parse(stored.credential).claims["status"]["status_list"]
        list_id = status["uri"].rsplit("/", 1)[-1]
        self.acknowledged.add("issued_credentials", f"{list_id}:{status['idx']}")
        return None

    def present(self, base: str, n: int) -> None:
        """A platform asks for a postcode area, the wallet presents it (OpenID4VP direct_post)
        and the platform reads the verified result. Against the first server, whose issuer
        URL the wallet's credential names."""
        base = self.servers[0].url
        with Wallet.over_http(base) as wallet:
            wallet.credentials.append(self._holder_credential())
            created = self._create_session(base)
            session_id = created["session_id"]
            wallet.present(created["qr_payload"]).raise_for_status()
            status = httpx.get(created["status_url"], auth=self.auth, timeout=30)
            status.raise_for_status()
            if status.json()["status"] != "done":
                raise RuntimeError(f"presented session is {status.json()['status']}")
            self.acknowledged.add("sessions_presented", session_id)

    def _holder_credential(self) -> StoredCredential:
        """One credential for the presenting wallets, issued on first use from an offer of
        its own (so that it does not count as an `issue`)."""
        with self.offer_lock:
            if self._credential is None:
                offer = self._holder_offer
                with Wallet.over_http(self.servers[0].url) as wallet:
                    [self._credential] = wallet.accept(offer["offer_uri"], offer["tx_code"])
            return self._credential

    def metadata(self, base: str, n: int) -> None:
        """Discovery, issuer metadata and the JWKS."""
        for path in (
            "/.well-known/openid-configuration",
            "/.well-known/openid-credential-issuer",
            "/jwks.json",
        ):
            httpx.get(base + path, timeout=30).raise_for_status()
