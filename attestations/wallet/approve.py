"""The built-in wallet's answer to a verification session (OpenID4VP 1.0), for residents
without a wallet app.

What the page shows is derived from the session's DCQL query (§6): per credential query the
claims of its first satisfiable claim set. Approval records the resident's consent per claim
(consent ledger, method `wallet`), builds an SD-JWT presentation disclosing only those claims
with a KB-JWT from the held key (nonce of the session, `aud` = the verifier's Client
Identifier, RFC 9901 §7.2, OpenID4VP §B.3.6), and posts it through `receive_response`, the
same path as a wallet app's `direct_post` (§8.2). Refusal is an Authorization Error Response
with `access_denied` (§8.5).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from attestations.config import AttestationConfig
from attestations.types import TYPES
from attestations.verifier.config import VerifierConfig
from attestations.verifier.dcql import (
    ClaimQuery,
    CredentialQuery,
    NoMatch,
    check_credential_sets,
    select,
)
from attestations.verifier.models import VerifierSession
from attestations.verifier.response import receive_response
from attestations.verifier.session import query_of
from attestations.wallet.errors import NoMatchingCredential
from attestations.wallet.store import HeldCredential, usable_credentials
from consent import PRESENTATION_PURPOSE_PREFIX, record_decision
from identity import get_client
from keys import Keyring, SubjectKeys

METHOD = "wallet"


@dataclass(frozen=True)
class AskedClaim:
    name: str  # the claim path joined by "." (the consent ledger's claim name)
    path: tuple[str | int | None, ...]
    label: dict[str, str]
    values: tuple[Any, ...] = ()  # what would be shared, from the resident's own credential


@dataclass(frozen=True)
class Match:
    query_id: str
    credential: HeldCredential
    claims: tuple[AskedClaim, ...]


@dataclass(frozen=True)
class RequestView:
    platform: str
    purpose: str
    asked: tuple[AskedClaim, ...]  # what the page lists
    matches: tuple[Match, ...] | None  # None: nothing in the wallet satisfies the query


def _label(path: tuple[Any, ...]) -> dict[str, str]:
    for ctype in TYPES.values():
        for spec in ctype.all_claims:
            if spec.path == path:
                return dict(spec.label)
    name = ".".join(str(p) for p in path)
    return {"nl": name, "en": name}


def _asked(option: tuple[ClaimQuery, ...]) -> tuple[AskedClaim, ...]:
    return tuple(
        AskedClaim(".".join(str(p) for p in c.path), tuple(c.path), _label(tuple(c.path)))
        for c in option
    )


def _option_for(query: CredentialQuery, claims: Mapping[str, Any]) -> tuple[ClaimQuery, ...] | None:
    """The first claim set (§6.4.1) the credential can satisfy, as `requested_claims` picks."""
    for option in query.claim_options():
        found = [select(claims, c.path) for c in option]
        if all(
            f and (c.values is None or any(v in c.values for v in f))
            for f, c in zip(found, option, strict=True)
        ):
            return option
    return None


def _match(
    query: CredentialQuery, held: list[HeldCredential], vct: Mapping[str, str]
) -> Match | None:
    for credential in held:
        if vct.get(credential.type) not in query.vct_values:
            continue
        option = _option_for(query, credential.claims)
        if option is not None:
            shared = tuple(
                dataclasses.replace(c, values=tuple(select(credential.claims, c.path) or ()))
                for c in _asked(option)
            )
            return Match(query.id, credential, shared)
    return None


def request_view(
    session: Session,
    subject_keys: SubjectKeys,
    config: VerifierConfig,
    row: VerifierSession,
    account_id: str,
    now: dt.datetime | None = None,
) -> RequestView:
    query = query_of(row.dcql_query, config.issuer)
    vct = {type_id: AttestationConfig(config.issuer).vct(type_id) for type_id in TYPES}
    held = usable_credentials(session, subject_keys, account_id, now)
    matches = [m for q in query.credentials if (m := _match(q, held, vct)) is not None]
    try:
        check_credential_sets(query, [m.query_id for m in matches])
        found: tuple[Match, ...] | None = tuple(matches)
    except NoMatch:
        found = None
    asked: list[AskedClaim] = []
    for item in found or ():
        asked.extend(item.claims)
    if found is None:
        for q in query.credentials:
            asked.extend(_asked(q.claim_options()[0]))
    return RequestView(platform_of(session, row), row.purpose, tuple(asked), found)


def shown_value(value: Any, lang: str) -> str:
    """A claim value as the share screen shows it to the resident: yes/no, a municipality by
    its name and code, anything else as written."""
    if isinstance(value, bool):
        return {"nl": "ja", "en": "yes"}[lang] if value else {"nl": "nee", "en": "no"}[lang]
    if isinstance(value, dict) and "name" in value:
        return f"{value['name']} ({value['code']})" if "code" in value else str(value["name"])
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def platform_of(session: Session, row: VerifierSession) -> str:
    """Who asks, as the page names them; a login session (Kluis's own, no platform) is Kluis."""
    client = get_client(session, row.client_id) if row.client_id is not None else None
    return client.name if client is not None else (row.client_id or "Kluis")


def _purpose_id(purpose: str) -> str:
    """Consent is per purpose: the platform's stated purpose, by a short digest."""
    return PRESENTATION_PURPOSE_PREFIX + hashlib.sha256(purpose.encode()).hexdigest()[:16]


def _record(
    session: Session,
    subject_keys: SubjectKeys,
    row: VerifierSession,
    account_id: str,
    lang: str,
    *,
    given: list[str],
    refused: list[str],
) -> None:
    """The resident's answer in the consent ledger. A login session discloses no claims to
    any platform, so it records nothing.

    For a poll the audit entry of the answer names nobody: it sits next to the poll's
    presentation in the log, and with the resident's reference there a steward could join
    the vote (which the platform ties to the session and its pseudonym) to the resident. The
    ledger keeps the record for the resident's own pages and export."""
    if row.client_id is None or not (given or refused):
        return
    record_decision(
        session,
        account_id=account_id,
        subject_ref=None
        if row.poll_id is not None
        else subject_keys.reference(session, account_id),
        client_id=row.client_id,
        given=given,
        refused=refused,
        purpose=_purpose_id(row.purpose),
        purpose_description=row.purpose,
        language=lang,
        method=METHOD,
    )


def approve(
    session: Session,
    keyring: Keyring,
    subject_keys: SubjectKeys,
    config: VerifierConfig,
    row: VerifierSession,
    account_id: str,
    lang: str,
) -> None:
    """Record consent, then present exactly the asked claims. The caller commits."""
    view = request_view(session, subject_keys, config, row, account_id)
    if view.matches is None:
        raise NoMatchingCredential()
    given = [c.name for c in view.asked]
    _record(session, subject_keys, row, account_id, lang, given=given, refused=[])
    vp_token: dict[str, list[str]] = {}
    for match in view.matches:
        presentation = match.credential.present(
            [c.path for c in match.claims], row.nonce, config.client_id
        )
        vp_token[match.query_id] = [presentation]
    receive_response(
        session, keyring, config, {"vp_token": json.dumps(vp_token), "state": row.state}
    )


def refuse(
    session: Session,
    keyring: Keyring,
    subject_keys: SubjectKeys,
    config: VerifierConfig,
    row: VerifierSession,
    account_id: str,
    lang: str,
) -> None:
    """The resident says no: recorded as refused, answered with `access_denied`."""
    view = request_view(session, subject_keys, config, row, account_id)
    refused = [c.name for c in view.asked]
    _record(session, subject_keys, row, account_id, lang, given=[], refused=refused)
    receive_response(session, keyring, config, {"error": "access_denied", "state": row.state})
