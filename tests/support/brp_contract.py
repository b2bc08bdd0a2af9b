"""The Haal Centraal BRP Personen Bevragen contract as a test oracle, and a registry double
that follows it.

The official OpenAPI 3.1 document is read where it lies (`../shared/vectors/haal-centraal-brp/
openapi.yaml`, see `tests.support.vectors`). `violations(name, instance)` validates an
instance against one of its component schemas with `jsonschema_rs` (a root document holding
the contract's `components`, so every `$ref` resolves) and adds what JSON Schema alone does
not check:

- OpenAPI's `discriminator`: JSON Schema ignores it, so a `verblijfplaats` of type `Adres`
  would otherwise be checked only as an `AbstractVerblijfplaats`. Here the instance is also
  validated against the subtype its `type` names, and a `type` the mapping lacks is an error.
- Closed objects: the contract does not forbid unknown members, but our doubles must not
  accept what the registry would not send or understand, so every member must be one the
  schema (with its `allOf` parts and chosen subtype) declares.
- `fields`: the contract's `Field` is only a pattern; here every entry must be a path of
  `Persoon` and not one of the members the registry always delivers, which the `fields`
  description says may not be asked for (the registry answers 400).

`contract_fake(records_by_bsn)` is a respx side effect that checks each request, answers with
what the registry would (only the asked `fields`), checks its own answer too, and can answer
the contract's problem responses (`Foutbericht`) first, for error tests.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import jsonschema_rs
import yaml

from tests.support.vectors import VECTORS

CONTRACT = VECTORS / "haal-centraal-brp" / "openapi.yaml"
JSON_MEDIA = "application/json; charset=utf-8"
PROBLEM_MEDIA = "application/problem+json"
QUERY = "RaadpleegMetBurgerservicenummer"
# members the registry always delivers and `fields` may not name (`PersonenQuery.fields`)
ALWAYS_DELIVERED = frozenset(
    {"inOnderzoek", "geheimhoudingPersoonsgegevens", "opschortingBijhouding", "rni", "verificatie"}
)
# ... and, outside the contract, the BRP's feature files deliver this one unasked beside any
# residence member, and its list of `fields` paths lacks it
NOT_ASKABLE = ALWAYS_DELIVERED | {"indicatieVastgesteldVerblijftNietOpAdres"}
# members the registry adds to an object it delivers part of (type of a polymorphic object,
# investigations, and the "no longer lives here" indication, as its feature files show)
ADDED_ALONG = ("type", "inOnderzoek", "indicatieVastgesteldVerblijftNietOpAdres")
DATE_TYPES = frozenset({"Datum", "JaarDatum", "JaarMaandDatum", "DatumOnbekend"})
Schema = Mapping[str, Any]


class ContractViolation(AssertionError):
    """A request or answer that breaks the BRP contract."""


@functools.cache
def contract() -> dict[str, Any]:
    if not CONTRACT.is_file():
        raise ContractViolation(f"BRP contract not found at {CONTRACT}")
    loaded: dict[str, Any] = yaml.safe_load(CONTRACT.read_text(encoding="utf-8"))
    return loaded


def ref_of(name: str) -> str:
    return f"#/components/schemas/{name}"


def _target(ref: str) -> Schema:
    node: Any = contract()
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node  # type: ignore[no-any-return]


@functools.cache
def _validator(ref: str) -> Any:
    root = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": contract()["components"],
        "$ref": ref,
    }
    return jsonschema_rs.validator_for(root, validate_formats=True)


def _schema_errors(ref: str, instance: Any, at: str) -> list[str]:
    return [
        f"{at}{''.join(f'/{p}' for p in error.instance_path) or '/'}: {error.message}"
        for error in _validator(ref).iter_errors(instance)
    ]


@dataclass
class _Members:
    """What a schema node allows in one object: its members' schemas, the subtypes the
    object's discriminator values chose, and discriminator errors."""

    members: dict[str, list[Schema]] = field(default_factory=dict)
    subtypes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _members(node: Schema, instance: Mapping[str, Any] | None) -> _Members:
    """Follow `$ref` and `allOf`; at a `discriminator`, the subtype `instance` names (with
    `instance` None: every subtype, for the paths `fields` may name)."""
    found, seen, stack = _Members(), set[str](), [node]
    while stack:
        current = stack.pop()
        if "$ref" in current and current["$ref"] not in seen:
            seen.add(current["$ref"])
            stack.append(_target(current["$ref"]))
        for name, sub in current.get("properties", {}).items():
            found.members.setdefault(name, []).append(sub)
        stack.extend(current.get("allOf", ()))
        discriminator = current.get("discriminator")
        if discriminator is None:
            continue
        mapping: dict[str, str] = discriminator["mapping"]
        if instance is None:
            stack.extend({"$ref": ref} for ref in mapping.values())
            continue
        value = instance.get(discriminator["propertyName"])
        chosen = mapping.get(value) if isinstance(value, str) else None
        if chosen is None:
            found.errors.append(f"{value!r} is not a {discriminator['propertyName']} it maps")
        elif chosen not in seen and seen & set(mapping.values()):
            found.errors.append(f"{value!r} names another schema than the one validated")
        elif chosen not in seen:
            found.subtypes.append(chosen)
            stack.append({"$ref": chosen})
    return found


def _items(node: Schema) -> list[Schema]:
    found, stack, seen = [], [node], set[str]()
    while stack:
        current = stack.pop()
        if "$ref" in current and current["$ref"] not in seen:
            seen.add(current["$ref"])
            stack.append(_target(current["$ref"]))
        if "items" in current:
            found.append(current["items"])
        stack.extend(current.get("allOf", ()))
    return found


def _closed(node: Schema, instance: Any, at: str) -> list[str]:
    """Unknown members, unmapped discriminator values and subtype errors, recursively."""
    errors: list[str] = []
    if isinstance(instance, dict):
        allowed = _members(node, instance)
        errors += [f"{at or '/'}: {e}" for e in allowed.errors]
        for ref in allowed.subtypes:
            errors += _schema_errors(ref, instance, at)
        for name, value in instance.items():
            if name not in allowed.members:
                errors.append(f"{at}/{name}: not a member the contract declares here")
            for sub in allowed.members.get(name, ()):
                errors += _closed(sub, value, f"{at}/{name}")
    elif isinstance(instance, list):
        for items in _items(node):
            for index, value in enumerate(instance):
                errors += _closed(items, value, f"{at}/{index}")
    return sorted(set(errors))


def violations(name: str, instance: Any, *, closed: bool = True) -> list[str]:
    """Why `instance` is not a valid `name` (a component schema); empty when it is."""
    errors = _schema_errors(ref_of(name), instance, "")
    if closed:
        errors += _closed({"$ref": ref_of(name)}, instance, "")
    return errors


@functools.cache
def field_paths() -> frozenset[str]:
    """Every path `fields` may name: dotted members of `Persoon`, through `allOf`, array
    items and every subtype, without the always-delivered members."""
    paths: set[str] = set()

    def walk(node: Schema, prefix: str, depth: int) -> None:
        if depth > 8:  # the contract nests four deep; this only guards against a cycle
            return
        for name, subs in _members(node, None).members.items():
            if name in NOT_ASKABLE:
                continue
            paths.add(prefix + name)
            for sub in subs:
                for inner in [sub, *_items(sub)]:
                    walk(inner, f"{prefix}{name}.", depth + 1)

    walk({"$ref": ref_of("Persoon")}, "", 0)
    return frozenset(paths)


def request_violations(request: httpx.Request) -> list[str]:
    """Why a request is not a `RaadpleegMetBurgerservicenummer` the registry would accept."""
    if request.method != "POST" or not request.url.path.endswith("/personen"):
        return [f"{request.method} {request.url.path}: only POST /personen exists"]
    media, _, params = request.headers.get("content-type", "").partition(";")
    charset = params.strip().lower().replace(" ", "")
    if media.strip().lower() != "application/json" or charset != "charset=utf-8":
        return [f"content type {request.headers.get('content-type')!r} is not {JSON_MEDIA}"]
    try:
        body = json.loads(request.content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return ["body is not UTF-8 JSON"]
    errors = violations(QUERY, body)
    fields = body.get("fields") if isinstance(body, dict) else None
    for entry in fields if isinstance(fields, list) else ():
        if entry not in field_paths():
            errors.append(f"/fields: {entry!r} is not a path of Persoon that may be asked")
    if isinstance(fields, list) and len(set(map(str, fields))) != len(fields):
        errors.append("/fields: a path is asked twice")
    return errors


def _copy_path(source: Mapping[str, Any], target: dict[str, Any], parts: Sequence[str]) -> None:
    key, rest = parts[0], parts[1:]
    if key not in source:
        return
    value = source[key]
    if not rest or not isinstance(value, dict) or value.get("type") in DATE_TYPES:
        target[key] = copy.deepcopy(value)  # a date is delivered whole, whatever part is asked
        return
    child = target.setdefault(key, {})
    child.update({k: copy.deepcopy(value[k]) for k in ADDED_ALONG if k in value})
    _copy_path(value, child, rest)


def select(person: Mapping[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    """What the registry delivers of `person` for `fields` (the fields feature, simplified)."""
    answer: dict[str, Any] = {}
    for path in fields:
        _copy_path(person, answer, path.split("."))
    answer.update({k: copy.deepcopy(person[k]) for k in ALWAYS_DELIVERED if k in person})
    return _pruned(answer)


def _pruned(value: dict[str, Any]) -> dict[str, Any]:
    """Without the empty objects a path that led nowhere left behind."""
    kept = {k: _pruned(v) if isinstance(v, dict) else v for k, v in value.items()}
    return {k: v for k, v in kept.items() if v != {}}


def problem(status: int, *, retry_after: str | None = None) -> httpx.Response:
    """A problem answer: the contract's own example for `status` (checked against its schema),
    or, for a status the contract has none for (404 from a misrouted gateway), a
    `Foutbericht` in the same style."""
    declared = contract()["components"]["responses"].get(str(status))
    if declared is not None:
        content = declared["content"][PROBLEM_MEDIA]
        name, body = content["schema"]["$ref"].rsplit("/", 1)[1], dict(content["example"])
    else:
        name, body = (
            "Foutbericht",
            {
                "type": "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.5",
                "title": "Opgevraagde resource bestaat niet.",
                "status": status,
                "detail": "The server has not found anything matching the Request-URI.",
                "code": "notFound",
            },
        )
    errors = violations(name, body)
    if errors:
        raise ContractViolation(f"problem {status} breaks the contract: {errors}")
    headers = {"content-type": PROBLEM_MEDIA}
    if retry_after is not None:
        headers["retry-after"] = retry_after
    return httpx.Response(status, content=json.dumps(body).encode(), headers=headers)


@dataclass
class ContractFake:
    """A BRP API double; see `contract_fake`. `bodies` holds every accepted request body."""

    records: Mapping[str, Mapping[str, Any]]
    problems: list[int | tuple[int, str]]
    requests: list[httpx.Request] = field(default_factory=list)
    bodies: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        errors = request_violations(request)
        if errors:
            raise ContractViolation("request breaks the BRP contract:\n" + "\n".join(errors))
        body = json.loads(request.content)
        self.requests.append(request)
        self.bodies.append(body)
        if self.problems:
            planned = self.problems.pop(0)
            status, retry_after = planned if isinstance(planned, tuple) else (planned, None)
            return problem(status, retry_after=retry_after)
        municipality = body.get("gemeenteVanInschrijving")
        people = [
            select(self.records[bsn], body["fields"])
            for bsn in body["burgerservicenummer"]
            if bsn in self.records
            and municipality
            in (None, self.records[bsn].get("gemeenteVanInschrijving", {}).get("code"))
        ]
        answer = {"type": QUERY, "personen": people}
        errors = violations(f"{QUERY}Response", answer)
        if errors:
            raise ContractViolation("answer breaks the BRP contract:\n" + "\n".join(errors))
        return httpx.Response(
            200, content=json.dumps(answer).encode(), headers={"content-type": JSON_MEDIA}
        )


def contract_fake(
    records_by_bsn: Mapping[str, Mapping[str, Any]],
    *,
    problems: Sequence[int | tuple[int, str]] = (),
) -> ContractFake:
    """A respx side effect for `POST /personen`: `records_by_bsn` maps a BSN to the whole
    `Persoon` the registry holds (it answers only the asked `fields` of it); `problems` are
    statuses (or `(status, Retry-After)`) answered first, one per request, in order."""
    return ContractFake(records_by_bsn, list(problems))
