"""The warning signs stewards see in the confirmation graph (`vouching.overview`), on small
hand-made graphs: a ring that confirms itself, a voucher near their quota, a newcomer who
confirms many, and the honest shapes that must not raise a sign."""

from __future__ import annotations

import datetime as dt

from attestations.vouching import overview
from attestations.vouching.rules import DAY, Edge, VouchingRules

NOW = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
RULES = VouchingRules()


def edges(*pairs: str, days_ago: int = 10) -> list[Edge]:
    """`"a>b"` is a confirmation of b by a."""
    split = (pair.split(">") for pair in pairs)
    return [Edge(voucher, vouchee, NOW - days_ago * DAY) for voucher, vouchee in split]


def test_a_ring_confirmed_by_one_outsider_is_a_cluster_and_honest_chains_are_not() -> None:
    ring = edges("x>f1", "f1>f2", "f2>f3", "f3>f1", "f2>f1", "f3>f2")
    honest = edges("s1>a", "s2>a", "a>b", "s1>b", "b>c", "a>c", "s2>c")
    [cluster] = overview.mutual_clusters(ring + honest, overview.Thresholds())
    assert cluster.members == ("f1", "f2", "f3")
    assert (cluster.inside, cluster.received) == (5, 6)
    assert cluster.share > 0.5


def test_a_group_confirmed_mostly_from_outside_is_no_cluster() -> None:
    ring = edges("f1>f2", "f2>f3", "f3>f1")
    outside = edges(*(f"o{i}>f{1 + i % 3}" for i in range(6)))
    assert overview.mutual_clusters(ring + outside, overview.Thresholds()) == []
    # the share that counts as "mostly" is a threshold
    lower = overview.Thresholds(cluster_inside_share=0.3)
    assert len(overview.mutual_clusters(ring + outside, lower)) == 1


def test_a_couple_confirming_each_other_is_below_the_cluster_size() -> None:
    couple = edges("a>b", "b>a")
    assert overview.strongly_connected(couple) == [["a", "b"]]
    assert overview.mutual_clusters(couple, overview.Thresholds()) == []
    assert len(overview.mutual_clusters(couple, overview.Thresholds(cluster_min_size=2))) == 1


def test_strongly_connected_handles_a_long_chain_without_recursion() -> None:
    chain = [Edge(f"n{i}", f"n{i + 1}", NOW) for i in range(5000)]
    assert overview.strongly_connected(chain) == []
    loop = [*chain, Edge("n5000", "n0", NOW)]
    [component] = overview.strongly_connected(loop)
    assert len(component) == 5001


def test_vouchers_near_or_at_their_quota_with_offences_costing_slots() -> None:
    rows = overview.GraphRows(
        given={
            "full": [NOW - 1 * DAY, NOW - 2 * DAY, NOW - 3 * DAY],
            "near": [NOW - 1 * DAY, NOW - 2 * DAY],
            "calm": [NOW - 1 * DAY],
            "old": [NOW - 40 * DAY, NOW - 50 * DAY, NOW - 60 * DAY],
            "offender": [NOW - 1 * DAY],
        },
        offences={"offender": 2},  # the second offence costs a slot: quota 2
    )
    found = overview.near_quota(RULES, rows, NOW, overview.Thresholds())
    assert [(q.voucher, q.used, q.quota, q.left) for q in found] == [
        ("full", 3, 3, 0),
        ("near", 2, 3, 1),
        ("offender", 1, 2, 1),
    ]


def test_newcomers_who_confirm_many_young_account_or_young_real_person() -> None:
    given = edges("new>a", "new>b", "new>c", "fresh>a", "fresh>b", "fresh>c", "fresh>d")
    given += edges("old>a", "old>b", "old>c", "few>a", "few>b")
    rows = overview.GraphRows(
        edges=given,
        created={
            "new": NOW - 20 * DAY,
            "fresh": NOW - 400 * DAY,
            "old": NOW - 400 * DAY,
            "few": NOW - 5 * DAY,
        },
        real_person_since={"fresh": NOW - 35 * DAY, "old": NOW - 300 * DAY},
        seeds=frozenset({"new"}),
    )
    found = overview.newcomers(rows, NOW, overview.Thresholds())
    assert found == [
        overview.Newcomer("fresh", 4, None, 35, seed=False),
        overview.Newcomer("new", 3, 20, None, seed=True),
    ]


def test_confirmations_older_than_young_do_not_make_a_newcomer() -> None:
    rows = overview.GraphRows(
        edges=edges("new>a", "new>b", "new>c", days_ago=70), created={"new": NOW - 50 * DAY}
    )
    assert overview.newcomers(rows, NOW, overview.Thresholds()) == []


def test_warning_signs_together_and_the_accounts_they_name() -> None:
    rows = overview.GraphRows(
        edges=edges("x>f1", "f1>f2", "f2>f3", "f3>f1"),
        given={"x": [NOW - DAY, NOW - 2 * DAY]},
        created={"f1": NOW - 3 * DAY},
    )
    signs = overview.warning_signs(RULES, rows, NOW)
    assert signs.any and len(signs.clusters) == 1 and len(signs.near_quota) == 1
    assert signs.newcomers == ()
    assert overview.accounts_named(signs) == {"f1", "f2", "f3", "x"}
    assert not overview.warning_signs(RULES, overview.GraphRows(), NOW).any
