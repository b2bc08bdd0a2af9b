"""The rules of peer vouching (issue 10), as pure functions over a snapshot of the graph.

A confirmation X→A (X vouches for A) made at moment c COUNTS towards A's threshold at moment
`end` when all of these hold (`countable`):

- it lies in the window: `end - window < c <= end`, and X is not A;
- X was ELIGIBLE at c (`eligible_at`): not found fake, not suspended, and either a seed voucher
  then, or holding then a `real_person` attestation (peer, desk or registry) issued at least
  `voucher_min_age` before c and not expired at c. Attestations that were revoked afterwards
  (a fake, a lapsed peer attestation, an erasure) do not count at all: that is how the cascade
  unwinds what a fake set up;
- it is not one half of a PAIR of unverified accounts: when A also confirmed X, and neither held
  a `real_person` attestation when they confirmed (seeds vouching for each other), neither
  confirmation counts.

Then A's vouchers (each counted once, however often they confirmed) must be INDEPENDENT: two
vouchers who share A's address (both hold postcode attestations, the house number known only as
a keyed hash), or who were both confirmed by one same eligible voucher up to `end`, count once.
The count is the largest set of pairwise independent vouchers (`independent_count`).

A peer attestation granted at g stays justified while A meets the threshold at `end = g`, with
what is known now (withdrawn confirmations and revoked attestations gone): its basis is fixed,
so confirmations expiring afterwards change nothing, and every voucher in it held their own
attestation at least `voucher_min_age` before, which makes the graph of justifications acyclic
in time (a ring of accounts cannot keep itself up once its root is gone).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations

DAY = dt.timedelta(days=1)
# the `real_person` type's own validity (`attestations.types`): a peer attestation cannot outlive it
TYPE_VALIDITY = 365 * DAY


@dataclass(frozen=True)
class VouchingRules:
    """Per-deployment rules, with the defaults of issue 10."""

    threshold: int = 2  # confirmations from distinct, independent vouchers
    window: dt.timedelta = 90 * DAY  # ... within this long
    voucher_min_age: dt.timedelta = 30 * DAY  # a voucher's own attestation is this old
    quota: int = 3  # confirmations a voucher may give ...
    quota_period: dt.timedelta = 30 * DAY  # ... per this long
    suspension: dt.timedelta = 120 * DAY  # for having vouched for a fake
    peer_validity: dt.timedelta = TYPE_VALIDITY  # "12 months"
    renewal_window: dt.timedelta = 30 * DAY  # a new peer attestation this long before expiry

    def __post_init__(self) -> None:
        if self.threshold < 1 or self.quota < 0:
            raise ValueError("threshold must be at least 1 and quota at least 0")
        for name in ("window", "quota_period", "peer_validity"):
            if getattr(self, name) <= dt.timedelta(0):
                raise ValueError(f"{name} must be positive")
        if self.voucher_min_age < dt.timedelta(0) or self.suspension < dt.timedelta(0):
            raise ValueError("voucher_min_age and suspension cannot be negative")
        if self.peer_validity > TYPE_VALIDITY:
            raise ValueError("peer_validity cannot exceed the real_person type's 365 days")
        if not dt.timedelta(0) <= self.renewal_window < self.peer_validity:
            raise ValueError("renewal_window must be shorter than peer_validity")

    def quota_for(self, offences: int) -> int:
        """Confirmations per period for a voucher with this many offences: the first costs a
        suspension only, each later one a slot for good."""
        return max(0, self.quota - max(0, offences - 1))


@dataclass(frozen=True)
class Edge:
    """A live (not withdrawn) confirmation: `voucher` vouched for `vouchee` at `at`."""

    voucher: str
    vouchee: str
    at: dt.datetime


@dataclass(frozen=True)
class Span:
    """[start, end): an attestation's life, a seed appointment, a suspension."""

    start: dt.datetime
    end: dt.datetime | None = None

    def holds(self, moment: dt.datetime) -> bool:
        return self.start <= moment and (self.end is None or moment < self.end)


@dataclass
class Graph:
    """What the rules know, as of now, about the accounts they are asked about. Withdrawn
    confirmations, revoked attestations and erased accounts are simply absent."""

    received: dict[str, list[Edge]] = field(default_factory=dict)  # by vouchee
    standing: dict[str, list[Span]] = field(default_factory=dict)  # live real_person
    seeds: dict[str, list[Span]] = field(default_factory=dict)
    suspensions: dict[str, list[Span]] = field(default_factory=dict)  # one per offence
    addresses: dict[str, str] = field(default_factory=dict)  # address_ref, while it counts
    fakes: set[str] = field(default_factory=set)

    def add(self, edge: Edge) -> None:
        self.received.setdefault(edge.vouchee, []).append(edge)


class Refusal(enum.StrEnum):
    """Why a voucher may not confirm now (`refusal`)."""

    SELF = "self"
    FAKE = "fake"
    SUSPENDED = "suspended"
    NOT_ELIGIBLE = "not_eligible"
    QUOTA = "quota"
    ALREADY = "already_confirmed"


def _spans(spans: dict[str, list[Span]], account: str) -> list[Span]:
    return spans.get(account, [])


def verified_at(graph: Graph, account: str, moment: dt.datetime) -> bool:
    """Whether the account held a (live, never revoked) `real_person` attestation then."""
    return any(span.holds(moment) for span in _spans(graph.standing, account))


def suspended_at(graph: Graph, account: str, moment: dt.datetime) -> bool:
    return any(span.holds(moment) for span in _spans(graph.suspensions, account))


def eligible_at(rules: VouchingRules, graph: Graph, voucher: str, moment: dt.datetime) -> bool:
    """Whether `voucher` could vouch at `moment` (see the module docstring)."""
    if voucher in graph.fakes or suspended_at(graph, voucher, moment):
        return False
    if any(span.holds(moment) for span in _spans(graph.seeds, voucher)):
        return True
    settled = moment - rules.voucher_min_age
    return any(
        span.start <= settled and (span.end is None or span.end > moment)
        for span in _spans(graph.standing, voucher)
    )


def in_window(rules: VouchingRules, edge: Edge, end: dt.datetime) -> bool:
    return end - rules.window < edge.at <= end


def unverified_pair(graph: Graph, edge: Edge, end: dt.datetime) -> bool:
    """X→A is half of a pair that cannot count: A also confirmed X (up to `end`), and neither
    held a `real_person` attestation when they confirmed."""
    if verified_at(graph, edge.voucher, edge.at):
        return False
    return any(
        back.voucher == edge.vouchee
        and back.at <= end
        and not verified_at(graph, back.voucher, back.at)
        for back in graph.received.get(edge.voucher, ())
    )


def countable(rules: VouchingRules, graph: Graph, edge: Edge, end: dt.datetime) -> bool:
    return (
        edge.voucher != edge.vouchee
        and in_window(rules, edge, end)
        and eligible_at(rules, graph, edge.voucher, edge.at)
        and not unverified_pair(graph, edge, end)
    )


def vouchers_of(rules: VouchingRules, graph: Graph, vouchee: str, end: dt.datetime) -> list[str]:
    """The distinct vouchers whose confirmations of `vouchee` count at `end`."""
    found = {e.voucher for e in graph.received.get(vouchee, ()) if countable(rules, graph, e, end)}
    return sorted(found)


def confirmers_of(rules: VouchingRules, graph: Graph, account: str, end: dt.datetime) -> set[str]:
    """Who vouched for `account` up to `end` while eligible (the independence rule's
    "confirmed by"; a confirmation from someone who could not vouch does not tie anyone)."""
    return {
        e.voucher
        for e in graph.received.get(account, ())
        if e.at <= end and eligible_at(rules, graph, e.voucher, e.at)
    }


def dependent_pairs(
    rules: VouchingRules, graph: Graph, vouchee: str, vouchers: Sequence[str], end: dt.datetime
) -> set[frozenset[str]]:
    """Pairs of vouchers that count once: they share the vouchee's address, or one same
    voucher confirmed both."""
    address = graph.addresses.get(vouchee)
    confirmers = {v: confirmers_of(rules, graph, v, end) for v in vouchers}
    pairs = set()
    for x, y in combinations(vouchers, 2):
        housemates = address is not None and graph.addresses.get(
            x
        ) == address == graph.addresses.get(y)
        if housemates or confirmers[x] & confirmers[y]:
            pairs.add(frozenset((x, y)))
    return pairs


def largest_independent(nodes: Sequence[str], pairs: set[frozenset[str]], cap: int) -> int:
    """The size of the largest subset of `nodes` containing no pair of `pairs`, searched up to
    `cap` (then the search stops: O(len(nodes) ** cap) at worst, and nearly always linear)."""
    best = 0

    def grow(size: int, rest: list[str]) -> None:
        nonlocal best
        best = max(best, size)
        for i, node in enumerate(rest):
            if best >= cap or size + len(rest) - i <= best:
                return
            grow(size + 1, [o for o in rest[i + 1 :] if frozenset((node, o)) not in pairs])

    grow(0, list(nodes))
    return min(best, cap)


def independent_count(rules: VouchingRules, graph: Graph, vouchee: str, end: dt.datetime) -> int:
    """How many countable, independent confirmations `vouchee` has at `end`, up to the
    threshold (more changes nothing)."""
    if vouchee in graph.fakes:
        return 0
    vouchers = vouchers_of(rules, graph, vouchee, end)
    pairs = dependent_pairs(rules, graph, vouchee, vouchers, end)
    return largest_independent(vouchers, pairs, rules.threshold)


def meets_threshold(rules: VouchingRules, graph: Graph, vouchee: str, end: dt.datetime) -> bool:
    return independent_count(rules, graph, vouchee, end) >= rules.threshold


def quota_used(rules: VouchingRules, given: Iterable[dt.datetime], now: dt.datetime) -> int:
    """Confirmations given in the current period (withdrawn ones too: each was an act)."""
    return sum(1 for at in given if now - rules.quota_period < at <= now)


def refusal(
    rules: VouchingRules,
    graph: Graph,
    *,
    voucher: str,
    vouchee: str,
    given: Iterable[dt.datetime],
    now: dt.datetime,
) -> Refusal | None:
    """Why `voucher` may not confirm `vouchee` now, or None. `given` holds the moments of the
    voucher's own confirmations; `graph` must know both accounts."""
    if voucher == vouchee:
        return Refusal.SELF
    if voucher in graph.fakes or vouchee in graph.fakes:
        return Refusal.FAKE
    if suspended_at(graph, voucher, now):
        return Refusal.SUSPENDED
    if not eligible_at(rules, graph, voucher, now):
        return Refusal.NOT_ELIGIBLE
    offences = len(_spans(graph.suspensions, voucher))
    if quota_used(rules, given, now) >= rules.quota_for(offences):
        return Refusal.QUOTA
    if any(
        e.voucher == voucher and in_window(rules, e, now) for e in graph.received.get(vouchee, ())
    ):
        return Refusal.ALREADY
    return None


def needs_peer_attestation(
    rules: VouchingRules, graph: Graph, account: str, now: dt.datetime
) -> bool:
    """Whether a new peer attestation would add anything: the account holds no `real_person`
    attestation that stays valid beyond the renewal window."""
    horizon = now + rules.renewal_window
    return not any(
        span.holds(now) and (span.end is None or span.end > horizon)
        for span in _spans(graph.standing, account)
    )
