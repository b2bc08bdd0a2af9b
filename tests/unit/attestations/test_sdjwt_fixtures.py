"""Shared helpers for the SD-JWT tests: the outside vectors, their keys and a `!sd` YAML reader.

The vectors are read in place from ../shared/vectors/sd-jwt (see its README); nothing is copied.
The few tests here check the helpers themselves.
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import yaml

from attestations.sdjwt import HolderPath, IssuerPath, KeyBindingExpectation, VerificationPolicy
from tests.support.vectors import VECTORS as SHARED_VECTORS

VECTORS = SHARED_VECTORS / "sd-jwt"
CASES = sorted(p.name for p in VECTORS.iterdir() if (p / "specification.yml").is_file())
JSON_CASES = [c for c in CASES if c.startswith("json_serialization")]
COMPACT_CASES = [c for c in CASES if c not in JSON_CASES]
VECTOR_TYP = "example+sd-jwt"
# The vectors' KB-JWTs were signed at iat 1795502534; their SD-JWTs expire at 1883000000.
VECTOR_NOW = 1795502600


@cache
def settings() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((VECTORS / "settings.yml").read_text())
    return loaded


def issuer_jwk() -> dict[str, str]:
    return dict(settings()["key_settings"]["issuer_key"])


def holder_jwk() -> dict[str, str]:
    return dict(settings()["key_settings"]["holder_key"])


def public(jwk: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in jwk.items() if k != "d"}


def issuer_resolver(header: dict[str, Any], payload: dict[str, Any]) -> dict[str, str]:
    return public(issuer_jwk())


NONCE: str = "1234567890"
AUDIENCE: str = "https://example.com/verifier"


def vector_policy(*, with_kb: bool, **overrides: Any) -> VerificationPolicy:
    expectation = KeyBindingExpectation(NONCE, AUDIENCE) if with_kb else None
    options: dict[str, Any] = {
        "expected_typ": VECTOR_TYP,
        "require_key_binding": with_kb,
        "key_binding": expectation,
        "required_claims": ("iss", "iat", "exp"),
        "expected_issuer": settings()["identifiers"]["issuer"],
        "legacy_json_layout": True,
    }
    options.update(overrides)
    return VerificationPolicy(**options)


def read_text(case: str, name: str) -> str:
    return (VECTORS / case / name).read_text()


def read_json(case: str, name: str) -> Any:
    return json.loads(read_text(case, name))


def presentation(case: str) -> str:
    """The reference presentation; the JSON cases hold a JSON string holding the JSON object."""
    if case in JSON_CASES:
        text: str = read_json(case, "sd_jwt_presentation.json")
        return text
    return read_text(case, "sd_jwt_presentation.txt")


def issuance(case: str) -> str:
    if case in JSON_CASES:
        text: str = read_json(case, "sd_jwt_issuance.json")
        return text
    return read_text(case, "sd_jwt_issuance.txt")


def issuance_disclosures(case: str) -> list[str]:
    text = issuance(case)
    if case in JSON_CASES:
        listed: list[str] = json.loads(text)["disclosures"]
        return listed
    return text.split("~")[1:-1]


def presentation_disclosures(case: str) -> list[str]:
    text = presentation(case)
    if case in JSON_CASES:
        listed: list[str] = json.loads(text)["disclosures"]
        return listed
    return text.split("~")[1:-1]


def b64_json(segment: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


# --- specification.yml: claims marked with `!sd` ---------------------------------------------


@dataclass(frozen=True)
class Sd:
    """A value or key tagged `!sd` in a specification.yml."""

    value: Any


class _SpecLoader(yaml.SafeLoader):
    pass


def _construct_sd(loader: yaml.SafeLoader, node: yaml.Node) -> Sd:
    if isinstance(node, yaml.ScalarNode):
        if node.style in ('"', "'"):
            return Sd(loader.construct_scalar(node))
        tag = loader.resolve(yaml.ScalarNode, node.value, (True, False))
        return Sd(loader.construct_object(yaml.ScalarNode(tag, node.value)))
    if isinstance(node, yaml.MappingNode):
        return Sd(loader.construct_mapping(node, deep=True))
    assert isinstance(node, yaml.SequenceNode)
    return Sd(loader.construct_sequence(node, deep=True))


_SpecLoader.add_constructor("!sd", _construct_sd)


def specification(case: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.load(read_text(case, "specification.yml"), Loader=_SpecLoader)
    return loaded


def split_sd(value: Any, path: tuple[str | int, ...] = ()) -> tuple[Any, list[IssuerPath]]:
    """Plain claims and the paths of the `!sd`-tagged object members and array elements."""
    paths: list[IssuerPath] = []
    if isinstance(value, dict):
        plain: dict[str, Any] = {}
        for key, member in value.items():
            name = key.value if isinstance(key, Sd) else key
            if isinstance(key, Sd):
                paths.append((*path, name))
            plain[name], inner = split_sd(member, (*path, name))
            paths += inner
        return plain, paths
    if isinstance(value, list):
        elements = []
        for index, element in enumerate(value):
            if isinstance(element, Sd):
                paths.append((*path, index))
                element = element.value
            converted, inner = split_sd(element, (*path, index))
            elements.append(converted)
            paths += inner
        return elements, paths
    return value, paths


def selection_paths(spec: Any, path: tuple[str | int, ...] = ()) -> Iterator[HolderPath]:
    """`holder_disclosed_claims` as Holder paths, with the reference Holder's truthiness rules
    (an object member is selected when truthy, an array element unless False or None)."""
    if isinstance(spec, dict):
        for key, member in spec.items():
            if member:
                yield (*path, key)
            yield from selection_paths(member, (*path, key))
    elif isinstance(spec, list):
        for index, element in enumerate(spec):
            if element is not None and element is not False:
                yield (*path, index)
            yield from selection_paths(element, (*path, index))


def vector_claims(case: str) -> tuple[dict[str, Any], list[IssuerPath]]:
    """What the reference generator issued: iss/iat/exp from settings, then the user claims."""
    base = {
        "iss": settings()["identifiers"]["issuer"],
        "iat": settings()["iat"],
        "exp": settings()["exp"],
    }
    user_claims, paths = split_sd(specification(case)["user_claims"])
    return {**base, **user_claims}, paths


def seeded_salts(seed: int = 0) -> Callable[[], str]:
    """The reference generator's salts: 16 bytes of `random.Random(seed)` each, base64url."""
    rng = random.Random(seed)

    def salt() -> str:
        raw = bytes(rng.getrandbits(8) for _ in range(16))
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return salt


# --- checks of the helpers -------------------------------------------------------------------


def test_every_vector_case_is_found() -> None:
    assert len(CASES) >= 17
    assert {"key_binding", "recursions", "json_serialization_general"} <= set(CASES)


def test_sd_tags_are_read_with_their_scalar_types() -> None:
    claims, paths = split_sd(specification("array_data_types")["user_claims"])
    assert claims == {"data_types": [None, 42, 3.14, "foo", True, ["Test"], {"foo": "bar"}]}
    assert paths == [("data_types", i) for i in range(7)]


def test_recursive_sd_tags_become_nested_paths() -> None:
    _, paths = split_sd(specification("recursions")["user_claims"])
    assert ("animals", "snake") in paths
    assert ("animals", "snake", "age") in paths
    assert ("baz", 1, 0) in paths


def test_seeded_salts_match_the_reference_generator() -> None:
    first_disclosure = issuance_disclosures("key_binding")[0]
    assert b64_json(first_disclosure)[0] == seeded_salts()()
