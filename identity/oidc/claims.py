"""The claim registry: which claims exist, which scope asks for each, which consented field
each is derived from, and how each is resolved.

Standard claims come from the account; attestation-backed claims (`postcode_area`,
`municipality`, `age_over_18`, `real_person`) get their resolvers from the attestations
package, which registers them when it starts. A claim without a value is omitted, and no
claim is ever resolved unless the resident consented to it (the caller filters first).

Consent is given per *field*, the piece of the resident's data a claim is derived from, and
every claim maps to exactly one field (`field_of`): `email_verified` says something about the
e-mail address, so it leaves only under consent for `email`; `preferred_username` is a user
name of the platform's sector, made when it is released (`SubjectIds.username_for`): never the
real name, which is the field `name`, nor the resident's Kluis user name. The ledger records
fields; releases name both the claims and the fields they came from.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from core import InvalidRequest
from identity.oidc.pseudonyms import valid_poll_id

# A claim source resolves several claims at once: (session, account_id) -> {claim: value}.
ClaimSource = Callable[[Session, str], Mapping[str, Any]]


@dataclasses.dataclass
class ClaimSpec:
    name: str
    scope: str
    label: dict[str, str]


SCOPES: dict[str, tuple[str, ...]] = {
    "email": ("email", "email_verified"),
    "profile": ("name", "preferred_username"),
    "residence": ("postcode_area", "municipality"),
    "age": ("age_over_18",),
    "real_person": ("real_person",),
}

_LABELS: dict[str, dict[str, str]] = {
    "email": {
        "nl": "Je e-mailadres (en of het bevestigd is)",
        "en": "Your e-mail address (and whether it is confirmed)",
    },
    "email_verified": {
        "nl": "Of je e-mailadres bevestigd is",
        "en": "Whether your e-mail address is confirmed",
    },
    "name": {"nl": "Je naam", "en": "Your name"},
    "preferred_username": {
        "nl": "Een gebruikersnaam voor dit platform (niet je echte naam; elk platform krijgt "
        "een andere)",
        "en": "A user name for this platform (not your real name; each platform gets a "
        "different one)",
    },
    "postcode_area": {"nl": "Je postcodegebied (4 cijfers)", "en": "Your postcode area (4 digits)"},
    "municipality": {"nl": "Je gemeente", "en": "Your municipality"},
    "age_over_18": {"nl": "Of je 18 jaar of ouder bent", "en": "Whether you are 18 or older"},
    "real_person": {"nl": "Dat je een echt persoon bent", "en": "That you are a real person"},
    "poll_pseudonym": {
        "nl": "Een schuilnaam voor deze stemming. Bij deze stemming is die steeds dezelfde, bij "
        "elke andere stemming anders. Omdat je ingelogd bent, weet het platform wel dat de stem "
        "van jouw account komt. Anoniem stemmen kan alleen met een QR-code of een brief, als het "
        "platform dat aanbiedt.",
        "en": "A pseudonym for this poll. It is always the same in this poll and different in "
        "every other poll. Because you are logged in, the platform does know that the vote "
        "comes from your account. Anonymous voting is only possible with a QR code or a letter, "
        "where the platform offers it.",
    },
}

# claim -> the field it is derived from, where that is not a field of its own name
_DERIVED_FROM: dict[str, str] = {"email_verified": "email"}

POLL_PSEUDONYM = "poll_pseudonym"
# Claims asked for by name only (the claims parameter), never by a scope.
BY_NAME: frozenset[str] = frozenset({POLL_PSEUDONYM})


class ClaimRegistry:
    def __init__(self) -> None:
        self._claims: dict[str, ClaimSpec] = {}
        self._sources: list[tuple[frozenset[str], ClaimSource]] = []
        for scope, names in SCOPES.items():
            for name in names:
                self._claims[name] = ClaimSpec(name, scope, _LABELS[name])
        for name in BY_NAME:
            self._claims[name] = ClaimSpec(name, "", _LABELS[name])

    def register_source(self, names: tuple[str, ...], source: ClaimSource) -> None:
        unknown = set(names) - set(self._claims)
        if unknown:
            raise KeyError(f"unknown claims {sorted(unknown)}")
        self._sources.append((frozenset(names), source))

    def known(self, name: str) -> bool:
        return name in self._claims

    def label(self, name: str, lang: str) -> str:
        spec = self._claims.get(name)
        return spec.label.get(lang, spec.label["nl"]) if spec else name

    def claims_for_scopes(self, scopes: set[str]) -> set[str]:
        return {n for s in scopes & set(SCOPES) for n in SCOPES[s]}

    def resolve(
        self, session: Session, account_id: str, names: set[str] | frozenset[str]
    ) -> dict[str, Any]:
        """Values of `names` (already filtered by consent); each source is asked once."""
        values: dict[str, Any] = {}
        for provides, source in self._sources:
            wanted = provides & names
            if not wanted:
                continue
            produced = source(session, account_id)
            values.update({k: v for k, v in produced.items() if k in wanted and v is not None})
        return values


def field_of(claim: str) -> str:
    """The consented field a claim is derived from (OIDC claims; any other name, such as a
    built-in wallet's claim path, is a field of its own)."""
    return _DERIVED_FROM.get(claim, claim)


def fields_of(claims: Iterable[str]) -> set[str]:
    return {field_of(name) for name in claims}


def claims_of_field(field: str) -> tuple[str, ...]:
    """Every claim derived from `field` (the field's own name first)."""
    derived = sorted(c for c, f in _DERIVED_FROM.items() if f == field)
    return (field, *derived)


def under_consent(claims: Iterable[str], fields: Iterable[str]) -> set[str]:
    """The claims whose field is among `fields`."""
    allowed = set(fields)
    return {name for name in claims if field_of(name) in allowed}


@dataclasses.dataclass(frozen=True)
class RequestedClaims:
    """What one authorization request asks for (OIDC Core §5.4, §5.5)."""

    userinfo: frozenset[str]  # from scopes and claims.userinfo
    id_token: frozenset[str]  # from claims.id_token
    essential: frozenset[str]
    poll_id: str | None = None  # the `value` of a requested poll_pseudonym

    @property
    def all(self) -> frozenset[str]:
        return self.userinfo | self.id_token

    @property
    def fields(self) -> frozenset[str]:
        """The fields the resident is asked to consent to."""
        return frozenset(fields_of(self.all))

    @property
    def essential_fields(self) -> frozenset[str]:
        return frozenset(fields_of(self.essential))

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "userinfo": sorted(self.userinfo),
            "id_token": sorted(self.id_token),
            "essential": sorted(self.essential),
        }
        if self.poll_id is not None:
            data["poll_id"] = self.poll_id
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RequestedClaims:
        poll_id = data.get("poll_id")
        return cls(
            frozenset(data.get("userinfo", ())),
            frozenset(data.get("id_token", ())),
            frozenset(data.get("essential", ())),
            poll_id if isinstance(poll_id, str) else None,
        )


def parse_claims_parameter(raw: str | None) -> dict[str, dict[str, Any]]:
    """OIDC Core §5.5: a JSON object with optional `userinfo` and `id_token` members."""
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise InvalidRequest("the claims parameter is not valid JSON") from exc
    if not isinstance(value, dict):
        raise InvalidRequest("the claims parameter must be a JSON object")
    parsed: dict[str, dict[str, Any]] = {}
    for member in ("userinfo", "id_token"):
        section = value.get(member)
        if section is None:
            continue
        if not isinstance(section, dict) or not all(
            v is None or isinstance(v, dict) for v in section.values()
        ):
            raise InvalidRequest(f"claims.{member} must map claim names to null or objects")
        parsed[member] = section
    return parsed


def requested_claims(
    registry: ClaimRegistry,
    scopes: set[str],
    claims_param: Mapping[str, Mapping[str, Any]],
    allowed: set[str] | None = None,
) -> RequestedClaims:
    """Unknown claims, and claims outside `allowed`, are ignored (OIDC Core §5.5: the OP need
    not honour every requested claim)."""
    userinfo = registry.claims_for_scopes(scopes)
    id_token: set[str] = set()
    essential: set[str] = set()
    for member, target in (("userinfo", userinfo), ("id_token", id_token)):
        for name, request in claims_param.get(member, {}).items():
            if not registry.known(name) or (allowed is not None and name not in allowed):
                continue
            target.add(name)
            if isinstance(request, Mapping) and request.get("essential") is True:
                essential.add(name)
    return RequestedClaims(
        frozenset(userinfo),
        frozenset(id_token),
        frozenset(essential),
        requested_poll_id(claims_param) if POLL_PSEUDONYM in userinfo | id_token else None,
    )


def requested_poll_id(claims_param: Mapping[str, Mapping[str, Any]]) -> str:
    """The poll of a `poll_pseudonym` request: its `value` (OIDC Core §5.5.1), printable ASCII
    without spaces, at most 128 characters, the same wherever the claim is asked for."""
    values = set()
    for member in ("userinfo", "id_token"):
        request = claims_param.get(member, {}).get(POLL_PSEUDONYM, False)
        if request is False:
            continue
        value = request.get("value") if isinstance(request, Mapping) else None
        if not valid_poll_id(value):
            raise InvalidRequest(
                "poll_pseudonym needs a value: the poll id, 1 to 128 printable ASCII "
                "characters without spaces"
            )
        values.add(value)
    if len(values) != 1:
        raise InvalidRequest("poll_pseudonym must name one poll")
    [poll_id] = values
    assert isinstance(poll_id, str)
    return poll_id
