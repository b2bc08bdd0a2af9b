"""An audit entry's details are spelled by orjson where they hold only the plain JSON types and
by the standard library's encoder otherwise (`audit.entries._checked`): both must give exactly
`canonical_json`'s text, and refuse what it refuses, for any value."""

from __future__ import annotations

import collections
import enum
from typing import Any, NamedTuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit import entries
from audit.entries import Pending, PersonalDataInAudit, _check_details, _checked
from core import canonical_json

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()  # also past 64 bits, where orjson refuses and json spells them
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
    | st.sampled_from(["\x00\x1f\x7f", '"\\/', "\u2028\u2029", "é✓\U0001f600", "\ufeff"])
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)


@pytest.fixture
def orjson_calls(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The values `_checked` hands to orjson, as they are spelled."""
    calls: list[Any] = []
    real = entries.dumps

    def dumps(value: Any, option: int) -> bytes:
        calls.append(value)
        return real(value, option=option)

    monkeypatch.setattr(entries, "dumps", dumps)
    return calls


def _spelled(details: dict[str, Any]) -> str:
    return _checked([Pending("test.event", "system", None, details)])[0]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_VALUES)
def test_details_are_spelled_as_canonical_json_by_either_encoder(value: Any) -> None:
    details = {"v": value}
    try:
        _check_details(details)
    except PersonalDataInAudit:
        with pytest.raises(PersonalDataInAudit):
            _spelled(details)
        return
    assert _spelled(details).encode() == canonical_json(details)


@pytest.mark.parametrize(
    ("details", "by_orjson"),
    [
        ({"client": "c1", "claims": ["email", "name"], "n": 3, "ok": True, "x": None}, True),
        ({"nested": {"b": [1, (2, 3)], "a": {"z": {}, "y": []}}, "é": "\x00\u2028"}, True),
        ({"\U0001f600": 1, "\uffff": 2, "z": 3}, True),  # keys sorted by code point
        ({"n": 2**64 - 1, "m": -(2**63)}, True),
        ({"n": 2**64}, False),  # past what orjson takes: json spells it
        ({"f": 1e-7}, False),  # floats: orjson writes 1e-7, json 1e-07
        ({"f": [0.5]}, False),
        ({"deep": [[[{"f": 2.0}]]]}, False),
    ],
)
def test_only_the_plain_types_go_to_orjson(
    details: dict[str, Any], by_orjson: bool, orjson_calls: list[Any]
) -> None:
    calls = orjson_calls
    assert _spelled(details).encode() == canonical_json(details)
    if by_orjson:
        assert calls == [details]
    elif details != {"n": 2**64}:
        assert calls == []  # a float: not even tried
    else:
        assert calls == [details]  # tried, refused, spelled by json


class _Flag(int):
    pass


class _Word(str):
    pass


class _Level(enum.IntEnum):
    LOW = 1


class _Kind(enum.StrEnum):
    A = "a"


class _Pair(NamedTuple):
    x: int
    y: str


class _Map(dict):  # type: ignore[type-arg]
    pass


@pytest.mark.parametrize(
    "details",
    [
        {"b": _Flag(3), "t": True},
        {"w": _Word("text")},
        {_Word("key"): 1, "a": 2},
        {"e": _Level.LOW, "k": _Kind.A},
        {_Kind.A: 1},
        {"p": _Pair(1, "y")},
        {"m": _Map(z=1, a=[_Map(b=2)])},
        {"o": collections.OrderedDict([("z", 1), ("a", 2)])},
    ],
)
def test_subclasses_and_unusual_types_are_spelled_as_canonical_json(
    details: dict[Any, Any], orjson_calls: list[Any]
) -> None:
    calls = orjson_calls
    spelled = _spelled(details)
    assert spelled.encode() == canonical_json(details)
    assert calls == []  # the walk sends them past orjson, to json


def test_a_key_met_as_plain_text_then_as_a_subclass_is_spelled_by_json() -> None:
    # the walk checks each distinct key once, so it takes `_Word("key")` for the "key" it
    # met before; orjson refuses a str subclass as a key, and json spells it
    details = {"x": {"key": 1}, "y": {_Word("key"): 2}}
    items = [Pending("test.event", "system", None, details)]
    assert _checked(items)[0].encode() == canonical_json(details)


def test_a_lone_surrogate_is_refused_by_either_path() -> None:
    for details in ({"x": "\ud800"}, {"x": "\udfff", "f": 1.5}):
        with pytest.raises(UnicodeEncodeError):
            _spelled(details)
