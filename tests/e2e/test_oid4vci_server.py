"""OpenID4VCI 1.0 against a real server: the operator makes offers with `kluis attestations
offer`, the spec-only test wallet collects them over HTTP (offer by reference → issuer metadata
→ token with pre-authorized code and tx_code → nonce → a batch of credentials), checks each
one through the published keys and status list, and meets every refusal as a wallet would.
The operator revokes one credential; the status list and the resident's account page show it."""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests.support.pages import shows
from tests.support.server import LiveServer
from tests.support.wallet import PRE_AUTH_GRANT, CredentialRevoked, Wallet

EMAIL = "wallet.bewoner@example.org"
PASSWORD = "een lang en sterk wachtwoord"
CLAIMS = {
    "postcode": "1087AB",
    "municipality": {"code": "GM0363", "name": "Amsterdam"},
    "residence_source": "letter",
}
BATCH = 10
MAX_TX_ATTEMPTS = 5
EXPIRING_TTL_S = 4  # long enough for the CLI that made it to exit on a loaded machine


# --- the operator ---------------------------------------------------------------------------


def add_resident(server: LiveServer) -> str:
    out = server.cli("accounts", "add", "--email", EMAIL, "--password", PASSWORD, "--json")
    account_id: str = json.loads(out.stdout)["account_id"]
    return account_id


def make_offer(server: LiveServer, ttl: int | None = None) -> dict[str, str]:
    args = ["attestations", "offer", "--account", EMAIL, "--type", "postcode"]
    args += ["--claims", json.dumps(CLAIMS), "--json"]
    if ttl is not None:
        args += ["--ttl", str(ttl)]
    offer: dict[str, str] = json.loads(server.cli(*args).stdout)
    return offer


def make_offers(server: LiveServer, count: int) -> list[dict[str, str]]:
    """`count` offers from concurrent CLI processes (each CLI start costs about a second)."""
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _: make_offer(server), range(count)))


# --- what a holder can see in its credentials ----------------------------------------------


def _b64json(part: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def _digests(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        yield from value.get("_sd", [])
        for item in value.values():
            yield from _digests(item)
    elif isinstance(value, list):
        for item in value:
            yield from _digests(item)


def fingerprint(credential: str) -> tuple[set[str], set[str], tuple[str, int]]:
    """The salts, the digests and the status list entry of one SD-JWT VC."""
    issuer_jwt, *disclosures, key_binding = credential.split("~")
    assert key_binding == ""  # as issued: no KB-JWT yet
    payload = jwt.decode(issuer_jwt, options={"verify_signature": False})
    salts = {_b64json(d)[0] for d in disclosures}
    status = payload["status"]["status_list"]
    return salts, set(_digests(payload)), (status["uri"], status["idx"])


def oauth_error(response: httpx.Response, status: int = 400) -> str:
    assert response.status_code == status, response.text
    assert "no-store" in response.headers.get("cache-control", "")
    error: str = response.json()["error"]
    return error


def wrong(tx_code: str) -> str:
    return f"{(int(tx_code) + 1) % 10 ** len(tx_code):0{len(tx_code)}d}"


# --- the tests ------------------------------------------------------------------------------


def test_wallet_collects_a_batch_over_http_and_sees_a_revocation(
    live_server: LiveServer,
) -> None:
    account_id = add_resident(live_server)
    offer = make_offer(live_server)

    with Wallet.over_http(live_server.url) as wallet:
        document = wallet.resolve_offer(offer["offer_uri"])
        issuer = document["credential_issuer"]
        assert issuer == live_server.url and document["credential_configuration_ids"] == [
            "postcode"
        ]
        grant = document["grants"][PRE_AUTH_GRANT]
        assert grant["tx_code"]["input_mode"] == "numeric" and grant["tx_code"]["length"] == 6
        issuer_md, as_md = wallet.metadata(issuer)
        assert as_md["token_endpoint"] == live_server.url + "/token"
        assert issuer_md["batch_credential_issuance"]["batch_size"] == BATCH
        code = grant["pre-authorized_code"]

        assert oauth_error(wallet.token(as_md, code, None)) == "invalid_request"
        token = wallet.token(as_md, code, offer["tx_code"])  # still live after that
        assert token.status_code == 200, token.text
        access_token = token.json()["access_token"]

        nonce = wallet.nonce(issuer_md)
        keys = [ec.generate_private_key(ec.SECP256R1()) for _ in range(BATCH)]
        proofs = [wallet.proof(key, issuer, nonce) for key in keys]
        response = wallet.request_credentials(issuer_md, access_token, "postcode", proofs)
        assert response.status_code == 200, response.text
        credentials = [item["credential"] for item in response.json()["credentials"]]
        assert len(credentials) == BATCH

        for credential, key in zip(credentials, keys, strict=True):
            verified = wallet.verify(issuer, credential)
            assert verified.claims["postcode"] == "1087AB"
            assert verified.claims["municipality"] == CLAIMS["municipality"]
            assert verified.holder_jwk == json.loads(
                jwt.algorithms.ECAlgorithm.to_jwk(key.public_key())
            )
        prints = [fingerprint(c) for c in credentials]
        salts = [salt for p in prints for salt in p[0]]
        digests = [digest for p in prints for digest in p[1]]
        assert len(salts) == len(set(salts)) and len(digests) == len(set(digests))
        assert len({p[2] for p in prints}) == BATCH  # no status index shared
        assert oauth_error(wallet.token(as_md, code, offer["tx_code"])) == "invalid_grant"
        assert wallet.http.get(offer["credential_offer_uri"]).status_code == 404

        listed = json.loads(
            live_server.cli("attestations", "list", "--account", account_id, "--json").stdout
        )
        assert len(listed) == BATCH and {item["type"] for item in listed} == {"postcode"}
        uri, idx = prints[3][2]
        [target] = [
            item
            for item in listed
            if (item["status_list"], item["status_idx"]) == (uri.rsplit("/", 1)[1], idx)
        ]
        assert "revoked" in live_server.cli("attestations", "revoke", target["id"]).stdout

        revoked = wallet.check_credential(issuer, credentials[3])
        assert wallet.status_of(revoked, wallet.issuer_keys(issuer)) == 1
        with pytest.raises(CredentialRevoked):
            wallet.verify(issuer, credentials[3])
        wallet.verify(issuer, credentials[4])  # its batch siblings stay valid

    with httpx.Client(base_url=live_server.url) as browser:
        login = browser.get("/login").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', login)
        assert csrf
        form = {"email": EMAIL, "password": PASSWORD, "csrf_token": csrf.group(1)}
        landed = browser.post("/login", data=form)
        assert landed.status_code == 303 and landed.headers["location"] == "/account"
        page = browser.get("/account").text
    assert 'data-state="used"' in page and f"1 van de {BATCH} ingetrokken" in page
    for secret in (offer["tx_code"], code, "GM0363", "Amsterdam"):
        assert secret not in page
    assert not shows(page, "1087")
    log = _log_content(live_server.log())
    assert not shows(log, "1087") and EMAIL not in log and offer["tx_code"] not in log


# Random or clock-derived log fields: a 16-hex request id contains "1087" now and then.
_NOISE_FIELDS = ("ts", "request_id", "ms")
# uvicorn's lines name the process id ("Started server process [41087]") and the server's free
# port ("…127.0.0.1:51087"); the access log, which would name other ports, is off
_PID_OR_PORT = re.compile(r"(?<=process \[)\d+(?=\])|(?<=127\.0\.0\.1:)\d+")


def _log_content(raw: str) -> str:
    """The server log without its random and timing fields, so the checks above look only at
    what the service wrote (messages, paths, event fields), never at chance digits."""
    lines = []
    for line in raw.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            lines.append(line)
            continue
        if isinstance(entry, dict):
            for name in _NOISE_FIELDS:
                entry.pop(name, None)
        lines.append(json.dumps(entry, ensure_ascii=False))
    return _PID_OR_PORT.sub("…", "\n".join(lines))


def test_wallet_is_refused_for_wrong_pins_replays_and_expired_offers(
    live_server: LiveServer,
) -> None:
    add_resident(live_server)
    expiring = make_offer(live_server, ttl=EXPIRING_TTL_S)
    expires_by = time.monotonic() + EXPIRING_TTL_S + 0.5

    with Wallet.over_http(live_server.url) as wallet:
        # collected while it lives; it is presented after its end, below
        late_code = wallet.resolve_offer(expiring["offer_uri"])["grants"][PRE_AUTH_GRANT]
        guessed, replayed = make_offers(live_server, 2)
        issuer_md, as_md = wallet.metadata(live_server.url)
        grants = [wallet.resolve_offer(o["offer_uri"])["grants"] for o in (guessed, replayed)]
        guessed_code, replayed_code = (g[PRE_AUTH_GRANT]["pre-authorized_code"] for g in grants)

        # wrong PINs: each is refused, and after the limit the right one is too
        for _ in range(MAX_TX_ATTEMPTS):
            response = wallet.token(as_md, guessed_code, wrong(guessed["tx_code"]))
            assert oauth_error(response) == "invalid_grant"
        response = wallet.token(as_md, guessed_code, guessed["tx_code"])
        assert oauth_error(response) == "invalid_grant"
        assert wallet.http.get(guessed["credential_offer_uri"]).status_code == 404

        # a replayed pre-authorized code is refused and revokes the token it granted
        first = wallet.token(as_md, replayed_code, replayed["tx_code"])
        assert first.status_code == 200, first.text
        again = wallet.token(as_md, replayed_code, replayed["tx_code"])
        assert oauth_error(again) == "invalid_grant"
        key = ec.generate_private_key(ec.SECP256R1())
        proof = wallet.proof(key, live_server.url, wallet.nonce(issuer_md))
        response = wallet.request_credentials(
            issuer_md, first.json()["access_token"], "postcode", [proof]
        )
        assert oauth_error(response, 401) == "invalid_token"

        # an expired offer: its code no longer buys a token, its document is gone
        time.sleep(max(0.0, expires_by - time.monotonic()))
        response = wallet.token(as_md, late_code["pre-authorized_code"], expiring["tx_code"])
        assert oauth_error(response) == "invalid_grant"
        assert wallet.http.get(expiring["credential_offer_uri"]).status_code == 404
