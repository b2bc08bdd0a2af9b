"""Fuzzing every operation of the OpenAPI document in-process with schemathesis (#15): no input
may give a server error. Bounded so that it runs in CI in well under a minute.

Random ids and bodies alone stop at the first check (404, 401, 400). So the cases are mixed
with real things from a provisioned Kluis: a platform's credentials, a resident's tokens and
an unused authorization code, a verification session and its `state`, a credential offer with
its pre-authorized code and tx_code, a Credential Endpoint access token and nonce. Each case
draws which of them to use, so the fuzzer reaches the checks behind authentication and
lookup, and replays, mismatches and half-valid combinations among them.
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from attestations.models import StatusList
from service.runtime import Runtime
from tests.conftest import TEST_ISSUER
from tests.functional.attestations.conftest import MakeOffer
from tests.support.oidc import (
    RP,
    auth_params,
    code_flow,
    exchange,
    make_resident,
    make_rp,
    pkce_pair,
)
from tests.support.wallet import PRE_AUTH_GRANT, Wallet

EXAMPLES = 20  # per operation; about 32 operations
SERVER_ERROR = 500
USING_UP = {"/token", "/revoke", "/verifier/response", "/logout", "/logout/confirm"}


def _payload(jwt: str) -> dict[str, Any]:
    part = jwt.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


@pytest.fixture
def known(
    client: TestClient,
    session: Session,
    runtime: Runtime,
    make_offer: MakeOffer,
    wallet: Wallet,
) -> dict[str, Any]:
    """Real values, by the field or path parameter names the operations use."""
    rp = make_rp(session)
    make_resident(runtime, session, client)
    query, verifier, _ = code_flow(client, rp, allow=["email"])
    tokens = exchange(client, rp, query["code"], verifier).json()
    unused, unused_verifier, _ = code_flow(client, rp, allow=["email"])
    area_session = {
        "purpose": "Stemmen in buurt 1087",
        "dcql_query": {
            "credentials": [
                {
                    "id": "residence",
                    "format": "dc+sd-jwt",
                    "meta": {"vct_values": [f"{TEST_ISSUER}/vct/postcode"]},
                    "claims": [{"path": ["postcode_area"]}],
                }
            ]
        },
    }
    created = client.post("/verifier/sessions", auth=rp.basic(), json=area_session).json()
    request_object = client.get(f"/verifier/request/{created['session_id']}").text
    offer = make_offer("postcode")
    spare = make_offer("age")
    document = wallet.resolve_offer(offer.offer_uri)
    pre_authorized = wallet.resolve_offer(spare.offer_uri)["grants"][PRE_AUTH_GRANT]
    vci = wallet.token(
        {"token_endpoint": "/token"}, pre_authorized["pre-authorized_code"], spare.tx_code
    )
    ref = parse_qs(urlsplit(offer.offer_uri).query)["credential_offer_uri"][0].rsplit("/", 1)[1]
    issued = make_offer("real_person")
    wallet.accept(issued.offer_uri, issued.tx_code)  # so that a status list exists
    second = client.post("/verifier/sessions", auth=rp.basic(), json=area_session).json()
    _, challenge = pkce_pair()
    pre_auth_code = document["grants"][PRE_AUTH_GRANT]["pre-authorized_code"]
    return {
        "rp": rp,
        "session_id": [created["session_id"], second["session_id"]],
        "state": _payload(request_object)["state"],
        "ref": ref,
        "list_id": session.scalars(select(StatusList.id)).first() or "0",
        "type_id": "postcode",
        "request_id": "",  # filled in by the consent step below when reachable
        "form": {
            "code": unused["code"],
            "code_verifier": unused_verifier,
            "redirect_uri": rp.redirect_uri,
            "refresh_token": tokens["refresh_token"],
            "token": tokens["access_token"],
            "pre-authorized_code": document["grants"][PRE_AUTH_GRANT]["pre-authorized_code"],
            "tx_code": offer.tx_code,
            "client_id": rp.client_id,
            "state": _payload(request_object)["state"],
            "id_token_hint": tokens["id_token"],
            "credential_configuration_id": "postcode",
        },
        # whole valid requests per operation, of which a case keeps a random part
        "valid": {
            "POST /token": [
                {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
                {
                    "grant_type": "authorization_code",
                    "code": unused["code"],
                    "code_verifier": unused_verifier,
                    "redirect_uri": rp.redirect_uri,
                },
                {
                    "grant_type": PRE_AUTH_GRANT,
                    "pre-authorized_code": pre_auth_code,
                    "tx_code": offer.tx_code,
                },
            ],
            "POST /introspect": [{"token": tokens["access_token"]}],
            "POST /revoke": [{"token": tokens["refresh_token"]}],
            "POST /verifier/sessions": [area_session],
            "GET /authorize": [auth_params(rp, challenge, prompt="none")],
        },
        "bearer": {
            "/userinfo": tokens["access_token"],
            "/credential": vci.json()["access_token"],
        },
    }


def _with_known(case: Any, data: st.DataObject, known: dict[str, Any]) -> None:
    """Swap in real values where the draw says so."""
    for name in list(case.path_parameters or {}):
        if name in known and known[name] and data.draw(st.booleans(), label=f"real {name}"):
            real = known[name]
            case.path_parameters[name] = (
                data.draw(st.sampled_from(real)) if isinstance(real, list) else real
            )
    label = f"{case.method} {case.path}"
    if label in known["valid"] and data.draw(st.booleans(), label="start from a valid request"):
        valid = data.draw(st.sampled_from(known["valid"][label]))
        kept = {k: v for k, v in valid.items() if data.draw(st.integers(0, 5), label=k) > 0}
        if case.method == "GET":
            case.query = kept
        else:
            case.body = kept
    if isinstance(case.body, dict):
        for name, value in known["form"].items():
            if data.draw(st.booleans(), label=f"real {name}"):
                case.body[name] = value
    if isinstance(case.query, dict):
        for name in ("client_id", "redirect_uri", "id_token_hint"):
            if name in case.query and data.draw(st.booleans(), label=f"real query {name}"):
                case.query[name] = known["form"][name]
    auth = data.draw(st.sampled_from(["none", "platform", "bearer"]), label="credentials")
    headers = dict(case.headers or {})
    rp: RP = known["rp"]
    if auth == "platform":
        headers.update(_platform_headers(rp))
    elif auth == "bearer" and case.path in known["bearer"]:
        headers["Authorization"] = f"Bearer {known['bearer'][case.path]}"
    case.headers = headers


def _platform_headers(rp: RP) -> dict[str, str]:
    secret = base64.b64encode(f"{rp.client_id}:{rp.secret}".encode()).decode()
    return {"Authorization": f"Basic {secret}"}


def fuzz(operation: Any, known: dict[str, Any]) -> Counter[int]:
    """Run each whole valid request of the operation once (with the platform's credentials),
    so that its success path is reached in every run, then EXAMPLES generated cases; the
    statuses they got."""
    seen: Counter[int] = Counter()
    for valid in known["valid"].get(operation.label, []):
        media = operation.body[0].media_type if len(operation.body) else None
        where = (
            {"query": dict(valid)} if operation.method.upper() == "GET" else {"body": dict(valid)}
        )
        case = operation.Case(headers=_platform_headers(known["rp"]), media_type=media, **where)
        response = case.call()
        seen[response.status_code] += 1
        assert response.status_code < SERVER_ERROR, (case.as_curl_command(), response.text)

    @given(case=operation.as_strategy(), data=st.data())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,  # the same cases in every run: a failure can be replayed
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any, data: st.DataObject) -> None:
        _with_known(case, data, known)
        response = case.call()
        seen[response.status_code] += 1
        assert response.status_code < SERVER_ERROR, (case.as_curl_command(), response.text)

    run()
    return seen


def test_no_operation_answers_with_a_server_error(app: FastAPI, known: dict[str, Any]) -> None:
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    # what uses things up (codes, offers, tokens, sessions) last, so that they are still
    # there for the other operations
    operations = sorted(
        (result.ok() for result in schema.get_all_operations()),
        key=lambda o: (o.path in USING_UP, o.method.upper() == "DELETE"),
    )
    assert len(operations) >= 30
    outcomes = {operation.label: fuzz(operation, known) for operation in operations}

    # The cases got past the first checks: some answered 2xx beyond the public documents,
    # so the fuzzer reached the code behind authentication and lookup.
    reached = {label for label, seen in outcomes.items() if any(200 <= s < 300 for s in seen)}
    assert {
        "POST /token",
        "GET /verifier/sessions/{session_id}",
        "GET /credential-offer/{ref}",
        "GET /userinfo",
    } <= reached, {k: dict(v) for k, v in outcomes.items()}
