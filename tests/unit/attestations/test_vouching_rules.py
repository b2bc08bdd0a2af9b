"""The rules of peer vouching (issue 10) on hand-built graphs: threshold and window, quotas and
offences, self and pair confirmations, independence (shared address, shared voucher), voucher
eligibility, renewal, the independent-set search, and the deployment's settings."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attestations.vouching.config import rules_from_settings
from attestations.vouching.rules import (
    DAY,
    Edge,
    Graph,
    Refusal,
    Span,
    VouchingRules,
    countable,
    eligible_at,
    independent_count,
    largest_independent,
    meets_threshold,
    needs_peer_attestation,
    quota_used,
    refusal,
    vouchers_of,
)
from service.settings import Settings
from tests.conftest import make_settings

RULES = VouchingRules()
T0 = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)
SECOND = dt.timedelta(seconds=1)


def graph_with(*edges: Edge, seeds: tuple[str, ...] = (), verified: tuple[str, ...] = ()) -> Graph:
    """Seeds appointed, and `verified` holding a desk attestation, a year before T0."""
    graph = Graph()
    for edge in edges:
        graph.add(edge)
    for account in seeds:
        graph.seeds[account] = [Span(T0 - 365 * DAY)]
    for account in verified:
        graph.standing[account] = [Span(T0 - 300 * DAY, T0 + 65 * DAY)]
    return graph


def vouch(voucher: str, vouchee: str, days_before: float = 0) -> Edge:
    return Edge(voucher, vouchee, T0 - dt.timedelta(days=days_before))


# --- threshold and window ---------------------------------------------------------------------


def test_two_distinct_eligible_vouchers_meet_the_threshold_and_one_does_not() -> None:
    one = graph_with(vouch("jan", "klaas", 3), seeds=("jan", "piet"))
    assert independent_count(RULES, one, "klaas", T0) == 1
    assert not meets_threshold(RULES, one, "klaas", T0)
    two = graph_with(vouch("jan", "klaas", 3), vouch("piet", "klaas", 1), seeds=("jan", "piet"))
    assert independent_count(RULES, two, "klaas", T0) == 2
    assert meets_threshold(RULES, two, "klaas", T0)


def test_one_voucher_confirming_twice_counts_once() -> None:
    graph = graph_with(vouch("jan", "klaas", 80), vouch("jan", "klaas", 1), seeds=("jan",))
    assert vouchers_of(RULES, graph, "klaas", T0) == ["jan"]
    assert not meets_threshold(RULES, graph, "klaas", T0)


@pytest.mark.parametrize(
    ("age", "counts"),
    [
        (dt.timedelta(0), True),
        (89 * DAY, True),
        (90 * DAY - SECOND, True),  # the last moment of the 90th day
        (90 * DAY, False),  # the 91st day begins
        (91 * DAY, False),
    ],
)
def test_a_confirmation_counts_within_90_days_and_not_on_the_91st(
    age: dt.timedelta, counts: bool
) -> None:
    graph = graph_with(
        vouch("jan", "klaas"), Edge("piet", "klaas", T0 - age), seeds=("jan", "piet")
    )
    assert meets_threshold(RULES, graph, "klaas", T0) is counts


def test_a_confirmation_given_after_the_moment_judged_does_not_count_then() -> None:
    graph = graph_with(vouch("jan", "klaas", 2), vouch("piet", "klaas", 1), seeds=("jan", "piet"))
    assert not meets_threshold(RULES, graph, "klaas", T0 - 1.5 * DAY)
    assert meets_threshold(RULES, graph, "klaas", T0 - 1 * DAY)


def test_the_threshold_and_window_are_the_deployments() -> None:
    three = VouchingRules(threshold=3, window=10 * DAY)
    graph = graph_with(
        vouch("a", "klaas", 9),
        vouch("b", "klaas", 5),
        vouch("c", "klaas", 1),
        seeds=("a", "b", "c"),
    )
    assert meets_threshold(three, graph, "klaas", T0)
    assert not meets_threshold(three, graph, "klaas", T0 + 1 * DAY)  # a's is 10 days old
    assert independent_count(three, graph, "klaas", T0 + 1 * DAY) == 2


def test_the_count_stops_at_the_threshold() -> None:
    graph = graph_with(*(vouch(v, "klaas") for v in "abcde"), seeds=tuple("abcde"))
    assert len(vouchers_of(RULES, graph, "klaas", T0)) == 5
    assert independent_count(RULES, graph, "klaas", T0) == RULES.threshold


def test_a_fake_vouchee_never_meets_the_threshold() -> None:
    graph = graph_with(vouch("jan", "klaas"), vouch("piet", "klaas"), seeds=("jan", "piet"))
    graph.fakes.add("klaas")
    assert independent_count(RULES, graph, "klaas", T0) == 0


# --- quotas and offences ---------------------------------------------------------------------


def ask(
    graph: Graph,
    given: list[dt.datetime],
    voucher: str = "jan",
    vouchee: str = "klaas",
    now: dt.datetime = T0,
) -> Refusal | None:
    return refusal(RULES, graph, voucher=voucher, vouchee=vouchee, given=given, now=now)


def test_three_confirmations_per_30_days_then_the_quota_refuses() -> None:
    graph = graph_with(seeds=("jan",))
    given = [T0 - 20 * DAY, T0 - 10 * DAY]
    assert quota_used(RULES, given, T0) == 2
    assert ask(graph, given) is None
    given.append(T0 - 1 * DAY)
    assert ask(graph, given) is Refusal.QUOTA
    # 30 days after the first, its slot is free again
    assert quota_used(RULES, given, T0 + 10 * DAY) == 2
    assert ask(graph, given, now=T0 + 10 * DAY) is None
    assert ask(graph, given, now=T0 + 10 * DAY - SECOND) is Refusal.QUOTA


def test_confirmations_in_the_future_or_before_the_period_do_not_use_the_quota() -> None:
    assert quota_used(RULES, [T0 - 30 * DAY, T0 + SECOND], T0) == 0
    assert quota_used(RULES, [T0 - 30 * DAY + SECOND, T0], T0) == 2


@pytest.mark.parametrize(("offences", "quota"), [(0, 3), (1, 3), (2, 2), (3, 1), (4, 0), (9, 0)])
def test_the_first_offence_costs_a_suspension_only_and_each_later_one_a_slot(
    offences: int, quota: int
) -> None:
    assert RULES.quota_for(offences) == quota


def test_past_suspensions_still_cost_slots_after_they_end() -> None:
    graph = graph_with(seeds=("jan",))
    # two offences, both suspensions over: two slots left per period
    graph.suspensions["jan"] = [
        Span(T0 - 400 * DAY, T0 - 280 * DAY),
        Span(T0 - 200 * DAY, T0 - 80 * DAY),
    ]
    assert ask(graph, [T0 - 5 * DAY]) is None
    assert ask(graph, [T0 - 5 * DAY, T0 - 4 * DAY]) is Refusal.QUOTA
    graph.suspensions["jan"].append(Span(T0 - 150 * DAY, T0 - 30 * DAY))
    assert ask(graph, [T0 - 5 * DAY]) is Refusal.QUOTA


def test_a_suspended_voucher_is_refused_until_the_suspension_ends() -> None:
    graph = graph_with(seeds=("jan",))
    graph.suspensions["jan"] = [Span(T0 - 10 * DAY, T0 + 110 * DAY)]
    assert ask(graph, []) is Refusal.SUSPENDED
    assert ask(graph, [], now=T0 + 110 * DAY - SECOND) is Refusal.SUSPENDED
    assert ask(graph, [], now=T0 + 110 * DAY) is None


def test_a_voucher_cannot_confirm_one_vouchee_twice_within_the_window() -> None:
    graph = graph_with(vouch("jan", "klaas", 89), seeds=("jan",))
    assert ask(graph, []) is Refusal.ALREADY
    assert ask(graph, [], now=T0 + 1 * DAY) is None  # the first has left the window
    assert ask(graph, [], vouchee="marie") is None


def test_fakes_on_either_side_are_refused() -> None:
    graph = graph_with(seeds=("jan",))
    graph.fakes.add("klaas")
    assert ask(graph, []) is Refusal.FAKE
    graph.fakes = {"jan"}
    assert ask(graph, []) is Refusal.FAKE


# --- self and pair ---------------------------------------------------------------------------


def test_nobody_confirms_themselves() -> None:
    graph = graph_with(vouch("jan", "jan"), vouch("piet", "jan"), seeds=("jan", "piet"))
    assert ask(graph, [], voucher="jan", vouchee="jan") is Refusal.SELF
    assert not countable(RULES, graph, vouch("jan", "jan"), T0)
    assert vouchers_of(RULES, graph, "jan", T0) == ["piet"]


def test_two_unverified_accounts_confirming_each_other_help_neither() -> None:
    # seeds may vouch without an attestation of their own, but not for each other
    graph = graph_with(
        vouch("jan", "piet", 5), vouch("piet", "jan", 4), vouch("marie", "piet", 3),
        vouch("marie", "jan", 3), seeds=("jan", "piet", "marie"),
    )  # fmt: skip
    assert vouchers_of(RULES, graph, "piet", T0) == ["marie"]
    assert vouchers_of(RULES, graph, "jan", T0) == ["marie"]


def test_the_pair_rule_starts_when_the_second_half_is_given() -> None:
    graph = graph_with(
        vouch("jan", "piet", 5), vouch("marie", "piet", 5), vouch("piet", "jan", 2),
        seeds=("jan", "piet", "marie"),
    )  # fmt: skip
    assert meets_threshold(RULES, graph, "piet", T0 - 3 * DAY)
    assert not meets_threshold(RULES, graph, "piet", T0)


def test_a_pair_counts_when_either_held_a_real_person_attestation_when_confirming() -> None:
    graph = graph_with(
        vouch("jan", "piet", 5), vouch("piet", "jan", 4), seeds=("piet",), verified=("jan",)
    )
    assert vouchers_of(RULES, graph, "piet", T0) == ["jan"]
    assert vouchers_of(RULES, graph, "jan", T0) == ["piet"]


# --- independence ----------------------------------------------------------------------------


def test_housemates_of_the_vouchee_count_once() -> None:
    graph = graph_with(vouch("jan", "klaas"), vouch("piet", "klaas"), seeds=("jan", "piet"))
    graph.addresses = {"klaas": "home", "jan": "home", "piet": "home"}
    assert len(vouchers_of(RULES, graph, "klaas", T0)) == 2
    assert independent_count(RULES, graph, "klaas", T0) == 1
    graph.addresses["piet"] = "elsewhere"
    assert independent_count(RULES, graph, "klaas", T0) == 2


def test_vouchers_sharing_an_address_other_than_the_vouchees_are_independent() -> None:
    graph = graph_with(vouch("jan", "klaas"), vouch("piet", "klaas"), seeds=("jan", "piet"))
    graph.addresses = {"jan": "their house", "piet": "their house"}
    assert independent_count(RULES, graph, "klaas", T0) == 2
    graph.addresses["klaas"] = "next door"
    assert independent_count(RULES, graph, "klaas", T0) == 2


def test_one_housemate_and_one_outsider_meet_the_threshold() -> None:
    graph = graph_with(
        vouch("jan", "klaas"), vouch("piet", "klaas"), vouch("marie", "klaas"),
        seeds=("jan", "piet", "marie"),
    )  # fmt: skip
    graph.addresses = {"klaas": "home", "jan": "home", "piet": "home"}
    assert independent_count(RULES, graph, "klaas", T0) == 2


def test_two_vouchers_confirmed_by_one_same_voucher_count_once() -> None:
    graph = graph_with(
        vouch("boss", "jan", 200), vouch("boss", "piet", 200),
        vouch("jan", "klaas", 1), vouch("piet", "klaas", 1),
        seeds=("boss",), verified=("jan", "piet"),
    )  # fmt: skip
    assert len(vouchers_of(RULES, graph, "klaas", T0)) == 2
    assert independent_count(RULES, graph, "klaas", T0) == 1
    graph.add(vouch("marie", "klaas", 1))
    graph.seeds["marie"] = [Span(T0 - 365 * DAY)]
    assert independent_count(RULES, graph, "klaas", T0) == 2


def test_a_shared_confirmation_from_someone_who_could_not_vouch_ties_nobody() -> None:
    graph = graph_with(
        vouch("nobody", "jan", 200), vouch("nobody", "piet", 200),
        vouch("jan", "klaas", 1), vouch("piet", "klaas", 1),
        verified=("jan", "piet"),
    )  # fmt: skip
    assert independent_count(RULES, graph, "klaas", T0) == 2


def test_a_shared_voucher_ties_only_once_they_confirmed_both() -> None:
    graph = graph_with(
        vouch("boss", "jan", 200), vouch("boss", "piet", 2),
        vouch("jan", "klaas", 5), vouch("piet", "klaas", 5),
        seeds=("boss",), verified=("jan", "piet"),
    )  # fmt: skip
    assert independent_count(RULES, graph, "klaas", T0 - 3 * DAY) == 2
    assert independent_count(RULES, graph, "klaas", T0) == 1


# --- voucher eligibility ----------------------------------------------------------------------


def test_a_seed_vouches_only_while_appointed() -> None:
    graph = Graph(seeds={"host": [Span(T0 - 10 * DAY, T0 + 10 * DAY)]})
    assert not eligible_at(RULES, graph, "host", T0 - 10 * DAY - SECOND)
    assert eligible_at(RULES, graph, "host", T0 - 10 * DAY)  # no waiting period for seeds
    assert eligible_at(RULES, graph, "host", T0 + 10 * DAY - SECOND)
    assert not eligible_at(RULES, graph, "host", T0 + 10 * DAY)


@pytest.mark.parametrize(
    ("age", "eligible"),
    [(29 * DAY, False), (30 * DAY - SECOND, False), (30 * DAY, True), (200 * DAY, True)],
)
def test_a_real_person_attestation_must_be_30_days_old_when_the_voucher_confirms(
    age: dt.timedelta, eligible: bool
) -> None:
    graph = Graph(standing={"jan": [Span(T0 - age, T0 - age + 365 * DAY)]})
    assert eligible_at(RULES, graph, "jan", T0) is eligible
    assert (ask(graph, []) is None) is eligible
    # what counts is the age at the confirmation, not when the vouchee is judged
    graph.add(vouch("jan", "klaas"))
    assert (vouchers_of(RULES, graph, "klaas", T0 + 60 * DAY) == ["jan"]) is eligible


def test_an_expired_attestation_does_not_make_a_voucher() -> None:
    graph = Graph(standing={"jan": [Span(T0 - 365 * DAY, T0)]})
    assert eligible_at(RULES, graph, "jan", T0 - SECOND)
    assert not eligible_at(RULES, graph, "jan", T0)
    assert ask(graph, []) is Refusal.NOT_ELIGIBLE


def test_a_new_attestation_needs_its_own_30_days_even_after_an_old_one() -> None:
    graph = Graph(standing={"jan": [Span(T0 - 400 * DAY, T0 - 35 * DAY), Span(T0 - 20 * DAY)]})
    assert not eligible_at(RULES, graph, "jan", T0)
    assert eligible_at(RULES, graph, "jan", T0 + 10 * DAY)


def test_suspended_or_fake_vouchers_are_not_eligible_and_their_confirmations_do_not_count() -> None:
    graph = graph_with(vouch("jan", "klaas", 1), vouch("piet", "klaas", 1), seeds=("jan", "piet"))
    graph.suspensions["piet"] = [Span(T0 - 2 * DAY, T0 + 118 * DAY)]
    assert not eligible_at(RULES, graph, "piet", T0 - 1 * DAY)
    assert vouchers_of(RULES, graph, "klaas", T0) == ["jan"]
    # a suspension does not reach back: what piet gave before it still counts
    graph.suspensions["piet"] = [Span(T0, T0 + 120 * DAY)]
    assert vouchers_of(RULES, graph, "klaas", T0) == ["jan", "piet"]
    # a fake never vouched: all it gave stops counting
    graph.fakes.add("jan")
    assert not eligible_at(RULES, graph, "jan", T0 - 300 * DAY)
    assert vouchers_of(RULES, graph, "klaas", T0) == ["piet"]


def test_an_unverified_non_seed_cannot_vouch() -> None:
    graph = graph_with(vouch("stranger", "klaas"), seeds=("jan",))
    assert ask(graph, [], voucher="stranger") is Refusal.NOT_ELIGIBLE
    assert vouchers_of(RULES, graph, "klaas", T0) == []


# --- expiry and renewal ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spans", "needs"),
    [
        ([], True),
        ([Span(T0 - 300 * DAY, T0 + 65 * DAY)], False),
        ([Span(T0 - 335 * DAY, T0 + 30 * DAY + SECOND)], False),
        ([Span(T0 - 335 * DAY, T0 + 30 * DAY)], True),  # inside the renewal window
        ([Span(T0 - 365 * DAY, T0)], True),  # expired
        ([Span(T0 + 1 * DAY, T0 + 366 * DAY)], True),  # not valid yet
        ([Span(T0 - 360 * DAY, T0 + 5 * DAY), Span(T0 - 1 * DAY, T0 + 364 * DAY)], False),
    ],
)
def test_a_peer_attestation_is_needed_without_one_valid_beyond_the_renewal_window(
    spans: list[Span], needs: bool
) -> None:
    graph = Graph(standing={"klaas": spans} if spans else {})
    assert needs_peer_attestation(RULES, graph, "klaas", T0) is needs


# --- the largest independent set ---------------------------------------------------------------


def pair(x: str, y: str) -> frozenset[str]:
    return frozenset((x, y))


def test_largest_independent_on_small_cases() -> None:
    assert largest_independent([], set(), 2) == 0
    assert largest_independent(["a", "b", "c"], set(), 2) == 2
    assert largest_independent(["a", "b", "c"], set(), 5) == 3
    everyone = {pair(x, y) for x, y in itertools.combinations("abcd", 2)}
    assert largest_independent(list("abcd"), everyone, 3) == 1
    # a path a-b-c: a and c; a star around a: its leaves
    assert largest_independent(list("abc"), {pair("a", "b"), pair("b", "c")}, 3) == 2
    star = {pair("a", leaf) for leaf in "bcde"}
    assert largest_independent(list("abcde"), star, 9) == 4


def brute_force(nodes: list[str], pairs: set[frozenset[str]]) -> int:
    for size in range(len(nodes), 0, -1):
        for subset in itertools.combinations(nodes, size):
            if not any(pair(x, y) in pairs for x, y in itertools.combinations(subset, 2)):
                return size
    return 0


@settings(max_examples=200, deadline=None)
@given(
    count=st.integers(0, 8),
    edges=st.sets(st.tuples(st.integers(0, 7), st.integers(0, 7)), max_size=20),
    cap=st.integers(1, 9),
)
def test_largest_independent_agrees_with_brute_force(
    count: int, edges: set[tuple[int, int]], cap: int
) -> None:
    nodes = [f"n{i}" for i in range(count)]
    pairs = {pair(f"n{x}", f"n{y}") for x, y in edges if x != y and max(x, y) < count}
    assert largest_independent(nodes, pairs, cap) == min(cap, brute_force(nodes, pairs))


# --- the deployment's rules ---------------------------------------------------------------------


def test_rules_from_absent_settings_are_the_defaults_of_issue_10() -> None:
    rules = rules_from_settings(SimpleNamespace())
    assert rules == VouchingRules()
    assert (rules.threshold, rules.quota, rules.window) == (2, 3, 90 * DAY)
    assert (rules.voucher_min_age, rules.quota_period) == (30 * DAY, 30 * DAY)
    assert (rules.suspension, rules.peer_validity) == (120 * DAY, 365 * DAY)


def test_rules_follow_the_kluis_vouching_settings(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        "sqlite://",
        vouching_threshold=3,
        vouching_window_days=60,
        vouching_voucher_min_age_days=0,
        vouching_quota=5,
        vouching_quota_period_days=7,
        vouching_suspension_days=0,
        vouching_validity_days=180,
    )
    assert isinstance(settings, Settings)
    assert rules_from_settings(settings) == VouchingRules(
        threshold=3,
        window=60 * DAY,
        voucher_min_age=dt.timedelta(0),
        quota=5,
        quota_period=7 * DAY,
        suspension=dt.timedelta(0),
        peer_validity=180 * DAY,
    )


@pytest.mark.parametrize("days", [1, 2, 30, 31, 60, 365])
def test_every_validity_the_settings_allow_makes_valid_rules(days: int) -> None:
    rules = rules_from_settings(SimpleNamespace(vouching_validity_days=days))
    assert rules.peer_validity == days * DAY
    assert dt.timedelta(0) <= rules.renewal_window < rules.peer_validity
    assert rules.renewal_window == min(30 * DAY, days * DAY / 2)


@pytest.mark.parametrize(
    "bad",
    [
        {"threshold": 0},
        {"quota": -1},
        {"window": dt.timedelta(0)},
        {"quota_period": -DAY},
        {"peer_validity": dt.timedelta(0)},
        {"voucher_min_age": -SECOND},
        {"suspension": -DAY},
        {"peer_validity": 366 * DAY},
        {"renewal_window": 365 * DAY},
        {"renewal_window": -SECOND},
        {"peer_validity": 20 * DAY, "renewal_window": 20 * DAY},
    ],
)
def test_rules_refuse_impossible_values(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        VouchingRules(**bad)  # type: ignore[arg-type]
