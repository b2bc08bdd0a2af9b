"""Digital Credentials Query Language (OpenID4VP 1.0 §6) for the verifier: validating a
platform's query, and matching presented credentials against it (§6.4, §7).

Kluis verifies SD-JWT VCs (`dc+sd-jwt`, §B.3) of its own credential types, so a query is also
checked against those types: every `vct_values` entry must be a type this Kluis issues and
every claim path a claim of that type. A typo then fails at session creation with a clear 422
instead of a wallet that can never answer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from attestations.types import CredentialType
from attestations.verifier.errors import InvalidDcqlQuery

FORMAT = "dc+sd-jwt"
ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_CREDENTIALS = 10
MAX_CLAIMS = 32
MAX_OPTIONS = 16

PathStep = str | int | None
ClaimPath = tuple[PathStep, ...]


@dataclass(frozen=True)
class ClaimQuery:
    id: str | None
    path: ClaimPath
    values: tuple[Any, ...] | None


@dataclass(frozen=True)
class CredentialQuery:
    id: str
    vct_values: tuple[str, ...]
    multiple: bool
    claims: tuple[ClaimQuery, ...] | None
    claim_sets: tuple[tuple[str, ...], ...] | None

    def claim_options(self) -> list[tuple[ClaimQuery, ...]]:
        """The acceptable claim combinations, most preferred first (§6.4.1)."""
        if self.claims is None:
            return [()]
        if self.claim_sets is None:
            return [self.claims]
        by_id = {c.id: c for c in self.claims}
        return [tuple(by_id[i] for i in option) for option in self.claim_sets]


@dataclass(frozen=True)
class CredentialSet:
    options: tuple[tuple[str, ...], ...]
    required: bool


@dataclass(frozen=True)
class DcqlQuery:
    credentials: tuple[CredentialQuery, ...]
    credential_sets: tuple[CredentialSet, ...] | None

    def credential(self, credential_id: str) -> CredentialQuery | None:
        return next((c for c in self.credentials if c.id == credential_id), None)


# --- validation ------------------------------------------------------------------------------


def _fail(where: str, message: str) -> InvalidDcqlQuery:
    return InvalidDcqlQuery(f"{where}: {message}", pointer=where)


def _list(value: Any, where: str, limit: int) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise _fail(where, "must be a non-empty array")
    if len(value) > limit:
        raise _fail(where, f"must have at most {limit} entries")
    return value


def _id(value: Any, where: str) -> str:
    if not isinstance(value, str) or not ID.match(value):
        raise _fail(where, "must be 1 to 64 letters, digits, '_' or '-'")
    return value


def _bool(value: Any, where: str, default: bool) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        raise _fail(where, "must be a boolean")
    return value


def parse_path(value: Any, where: str) -> ClaimPath:
    """A claims path pointer (§7): non-empty, of strings, nulls and non-negative integers."""
    steps = _list(value, where, 16)
    for i, step in enumerate(steps):
        if step is None or isinstance(step, str):
            continue
        if isinstance(step, int) and not isinstance(step, bool) and step >= 0:
            continue
        raise _fail(f"{where}/{i}", "must be a string, null or a non-negative integer")
    return tuple(steps)


def _claim(raw: Any, where: str, needs_id: bool) -> ClaimQuery:
    if not isinstance(raw, dict):
        raise _fail(where, "must be an object")
    claim_id = raw.get("id")
    if claim_id is not None or needs_id:
        claim_id = _id(claim_id, f"{where}/id")
    values = raw.get("values")
    if values is not None:
        for i, v in enumerate(_list(values, f"{where}/values", 64)):
            if not isinstance(v, str | int | bool):
                raise _fail(f"{where}/values/{i}", "must be a string, integer or boolean")
        values = tuple(values)
    return ClaimQuery(claim_id, parse_path(raw.get("path"), f"{where}/path"), values)


def _check_path_known(path: ClaimPath, types: Sequence[CredentialType | None], where: str) -> None:
    """Kluis's own types list their claims; another issuer's (None) are not known here."""
    if any(t is None for t in types):
        return
    known = [t for t in types if t is not None]
    if not any(path == spec.path for t in known for spec in t.all_claims):
        names = sorted({"/".join(s.path) for t in known for s in t.all_claims})
        raise _fail(where, f"is not a claim of the requested type(s); known: {', '.join(names)}")


def _claims(
    raw: Mapping[str, Any], where: str, types: Sequence[CredentialType | None]
) -> tuple[tuple[ClaimQuery, ...] | None, tuple[tuple[str, ...], ...] | None]:
    claim_sets_raw = raw.get("claim_sets")
    if raw.get("claims") is None:
        if claim_sets_raw is not None:
            raise _fail(f"{where}/claim_sets", "must not be present without claims")
        return None, None
    items = _list(raw["claims"], f"{where}/claims", MAX_CLAIMS)
    claims = tuple(
        _claim(c, f"{where}/claims/{i}", claim_sets_raw is not None) for i, c in enumerate(items)
    )
    ids = [c.id for c in claims if c.id is not None]
    if len(ids) != len(set(ids)):
        raise _fail(f"{where}/claims", "claim ids must be unique")
    paths = [c.path for c in claims]
    if len(paths) != len(set(paths)):
        raise _fail(f"{where}/claims", "must not point to the same claim twice")
    for i, claim in enumerate(claims):
        _check_path_known(claim.path, types, f"{where}/claims/{i}/path")
    if claim_sets_raw is None:
        return claims, None
    sets = []
    for i, option in enumerate(_list(claim_sets_raw, f"{where}/claim_sets", MAX_OPTIONS)):
        members = _list(option, f"{where}/claim_sets/{i}", MAX_CLAIMS)
        for j, member in enumerate(members):
            if member not in ids:
                raise _fail(f"{where}/claim_sets/{i}/{j}", "must name a claim id of this query")
        sets.append(tuple(members))
    return claims, tuple(sets)


def _credential(
    raw: Any, where: str, known: Mapping[str, CredentialType | None]
) -> CredentialQuery:
    if not isinstance(raw, dict):
        raise _fail(where, "must be an object")
    credential_id = _id(raw.get("id"), f"{where}/id")
    if raw.get("format") != FORMAT:
        raise _fail(f"{where}/format", f"must be {FORMAT!r} (the only format Kluis verifies)")
    meta = raw.get("meta")
    if not isinstance(meta, dict):
        raise _fail(f"{where}/meta", "is required and must be an object")
    vct_values = _list(meta.get("vct_values"), f"{where}/meta/vct_values", 16)
    types = []
    for i, vct in enumerate(vct_values):
        if not isinstance(vct, str) or vct not in known:
            raise _fail(
                f"{where}/meta/vct_values/{i}",
                f"must be a credential type of a trusted issuer: {', '.join(sorted(known))}",
            )
        types.append(known[vct])
    if not _bool(
        raw.get("require_cryptographic_holder_binding"),
        f"{where}/require_cryptographic_holder_binding",
        True,
    ):
        raise _fail(
            f"{where}/require_cryptographic_holder_binding",
            "must be true: Kluis accepts only presentations with key binding",
        )
    if "trusted_authorities" in raw:
        raise _fail(f"{where}/trusted_authorities", "is not supported")
    claims, claim_sets = _claims(raw, where, types)
    multiple = _bool(raw.get("multiple"), f"{where}/multiple", False)
    return CredentialQuery(credential_id, tuple(vct_values), multiple, claims, claim_sets)


def _credential_sets(raw: Any, ids: Sequence[str]) -> tuple[CredentialSet, ...] | None:
    if raw is None:
        return None
    sets = []
    for i, item in enumerate(_list(raw, "/credential_sets", MAX_OPTIONS)):
        where = f"/credential_sets/{i}"
        if not isinstance(item, dict):
            raise _fail(where, "must be an object")
        options = []
        for j, option in enumerate(_list(item.get("options"), f"{where}/options", MAX_OPTIONS)):
            members = _list(option, f"{where}/options/{j}", MAX_CREDENTIALS)
            for k, member in enumerate(members):
                if member not in ids:
                    raise _fail(f"{where}/options/{j}/{k}", "must name a credential query id")
            options.append(tuple(members))
        sets.append(CredentialSet(tuple(options), _bool(item.get("required"), where, True)))
    return tuple(sets)


def parse_query(raw: Any, known: Mapping[str, CredentialType | None]) -> DcqlQuery:
    """Validate a DCQL query (§6.1-§6.3); `known` maps each accepted `vct` to its type
    (None for the types of other trusted issuers, whose claims are not checked here).
    Unknown properties are ignored, as §6 requires. Raises `InvalidDcqlQuery`."""
    if not isinstance(raw, dict):
        raise _fail("", "the DCQL query must be a JSON object")
    items = _list(raw.get("credentials"), "/credentials", MAX_CREDENTIALS)
    credentials = tuple(_credential(c, f"/credentials/{i}", known) for i, c in enumerate(items))
    ids = [c.id for c in credentials]
    if len(ids) != len(set(ids)):
        raise _fail("/credentials", "credential query ids must be unique")
    return DcqlQuery(credentials, _credential_sets(raw.get("credential_sets"), ids))


# --- matching --------------------------------------------------------------------------------


class NoMatch(Exception):
    """The presented credentials do not satisfy the query; the message names why."""


_MISSING = object()


def select(claims: Any, path: ClaimPath) -> list[Any]:
    """Process a claims path pointer (§7.1.1) on JSON claims; [] when nothing is selected."""
    selected: list[Any] = [claims]
    for step in path:
        following: list[Any] = []
        for element in selected:
            if isinstance(step, str):
                if not isinstance(element, dict):
                    return []
                if step in element:
                    following.append(element[step])
            elif step is None:
                if not isinstance(element, list):
                    return []
                following.extend(element)
            else:
                if not isinstance(element, list):
                    return []
                if step < len(element):
                    following.append(element[step])
        selected = following
    return selected


def _value_matches(found: list[Any], values: tuple[Any, ...] | None) -> bool:
    if values is None:
        return True
    # type and value must both match (§6.3): True is not 1
    return any(type(v) is type(w) and v == w for v in found for w in values)


def project(claims: Any, path: ClaimPath) -> Any:
    """Only the part of `claims` that `path` points to, keeping its nesting."""
    if not path:
        return claims
    step, rest = path[0], path[1:]
    if isinstance(step, str) and isinstance(claims, dict) and step in claims:
        return {step: project(claims[step], rest)}
    if step is None and isinstance(claims, list):
        parts = (project(element, rest) for element in claims)
        return [part for part in parts if part is not _MISSING]
    if isinstance(step, int) and isinstance(claims, list) and step < len(claims):
        return [project(claims[step], rest)]
    return _MISSING


def merge(into: Any, part: Any) -> Any:
    if isinstance(into, dict) and isinstance(part, dict):
        for key, value in part.items():
            into[key] = merge(into[key], value) if key in into else value
        return into
    return part


def requested_claims(query: CredentialQuery, vct: str, claims: Mapping[str, Any]) -> dict[str, Any]:
    """The claims of one presented credential that the query asked for, and nothing else.
    Takes the first satisfiable `claim_sets` option (§6.4.1). Raises `NoMatch`."""
    if vct not in query.vct_values:
        raise NoMatch(f"credential {query.id}: vct is not one of the requested types")
    for option in query.claim_options():
        found = [select(claims, c.path) for c in option]
        if all(f and _value_matches(f, c.values) for f, c in zip(found, option, strict=True)):
            result: dict[str, Any] = {}
            for claim in option:
                merge(result, project(claims, claim.path))
            return result
    raise NoMatch(f"credential {query.id}: the disclosed claims do not cover the query")


def check_credential_sets(query: DcqlQuery, presented: Sequence[str]) -> None:
    """§6.4.2: every credential when there are no sets, else one option of each required set."""
    given = set(presented)
    if query.credential_sets is None:
        missing = [c.id for c in query.credentials if c.id not in given]
        if missing:
            raise NoMatch(f"vp_token lacks credential(s): {', '.join(missing)}")
        return
    for i, credential_set in enumerate(query.credential_sets):
        if credential_set.required and not any(
            set(option) <= given for option in credential_set.options
        ):
            raise NoMatch(f"vp_token satisfies no option of credential_sets[{i}]")
