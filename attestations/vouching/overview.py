"""Warning signs in the confirmation graph, for stewards (issue 10): pure functions over rows,
so they can be tested without a database (`listing.graph_rows` reads the rows).

Three signs, each only a reason to look closer, never a verdict:

- a CLUSTER that mostly confirms each other: a strongly connected group of accounts (each
  reaches every other by following confirmations: a ring, or pairs chained into one) of at
  least `cluster_min_size`, where most of the confirmations its members received came from
  inside the group. A ring of fake accounts looks like this; a household rarely does, and
  honest neighbourhoods, confirmed from many sides over time, hardly ever;
- a voucher NEAR THEIR QUOTA: at most `quota_margin` confirmation slots left in the current
  period (withdrawn confirmations count: each was an act), or none at all;
- a NEWCOMER confirming many: an account created less than `young` ago, or holding its
  `real_person` attestation for less than that, that gave at least `many` confirmations in
  that time.

Accounts appear here as account ids; whoever shows them to a steward turns them into opaque
references first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from attestations.vouching.rules import DAY, Edge, VouchingRules, quota_used


@dataclass(frozen=True)
class Thresholds:
    """When a sign shows (defaults chosen for the issue's default rules)."""

    cluster_min_size: int = 3
    cluster_inside_share: float = 0.5  # "mostly": more than this share from inside
    quota_margin: int = 1  # slots left at most
    young: dt.timedelta = 60 * DAY
    many: int = 3


@dataclass(frozen=True)
class GraphRows:
    """What the analysis reads: live confirmations that may still support an attestation,
    the moments of every confirmation each voucher gave in the current quota period, the
    vouchers' offences, when each voucher's account was created and since when it holds a
    live `real_person` attestation, and the current seed vouchers."""

    edges: Sequence[Edge] = ()
    given: Mapping[str, Sequence[dt.datetime]] = field(default_factory=dict)
    offences: Mapping[str, int] = field(default_factory=dict)
    created: Mapping[str, dt.datetime] = field(default_factory=dict)
    real_person_since: Mapping[str, dt.datetime] = field(default_factory=dict)
    seeds: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Cluster:
    members: tuple[str, ...]
    inside: int  # confirmations from one member to another
    received: int  # every live confirmation the members received

    @property
    def share(self) -> float:
        return self.inside / self.received if self.received else 0.0


@dataclass(frozen=True)
class QuotaUse:
    voucher: str
    used: int
    quota: int

    @property
    def left(self) -> int:
        return max(0, self.quota - self.used)


@dataclass(frozen=True)
class Newcomer:
    voucher: str
    given: int  # confirmations given within `young`
    account_days: int | None  # age of the account, when young
    real_person_days: int | None  # age of its real_person attestation, when young
    seed: bool


@dataclass(frozen=True)
class WarningSigns:
    clusters: tuple[Cluster, ...] = ()
    near_quota: tuple[QuotaUse, ...] = ()
    newcomers: tuple[Newcomer, ...] = ()

    @property
    def any(self) -> bool:
        return bool(self.clusters or self.near_quota or self.newcomers)


def strongly_connected(edges: Iterable[Edge]) -> list[list[str]]:
    """The strongly connected components of the confirmation graph with more than one
    member (Tarjan's algorithm, iterative: a long chain must not hit the recursion limit)."""
    out: dict[str, list[str]] = {}
    for edge in edges:
        if edge.voucher != edge.vouchee:
            out.setdefault(edge.voucher, []).append(edge.vouchee)
            out.setdefault(edge.vouchee, [])
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(out):
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, child = work.pop()
            if child == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            successors = out[node]
            if child < len(successors):
                work.append((node, child + 1))
                nxt = successors[child]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if work:  # returning to the parent: pass the low-link up
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def mutual_clusters(edges: Sequence[Edge], thresholds: Thresholds) -> list[Cluster]:
    """Groups that mostly confirm each other (see the module docstring), largest first."""
    clusters = []
    for members in strongly_connected(edges):
        if len(members) < thresholds.cluster_min_size:
            continue
        group = set(members)
        received = [e for e in edges if e.vouchee in group]
        inside = sum(1 for e in received if e.voucher in group)
        cluster = Cluster(tuple(members), inside, len(received))
        if cluster.share > thresholds.cluster_inside_share:
            clusters.append(cluster)
    return sorted(clusters, key=lambda c: (-len(c.members), c.members))


def near_quota(
    rules: VouchingRules, rows: GraphRows, now: dt.datetime, thresholds: Thresholds
) -> list[QuotaUse]:
    """Vouchers with at most `quota_margin` slots left this period, fullest first."""
    found = []
    for voucher, moments in rows.given.items():
        used = quota_used(rules, moments, now)
        quota = rules.quota_for(rows.offences.get(voucher, 0))
        if used > 0 and quota - used <= thresholds.quota_margin:
            found.append(QuotaUse(voucher, used, quota))
    return sorted(found, key=lambda q: (q.left, -q.used, q.voucher))


def _days(since: dt.datetime | None, now: dt.datetime, young: dt.timedelta) -> int | None:
    if since is None or now - since >= young:
        return None
    return max(0, (now - since).days)


def newcomers(rows: GraphRows, now: dt.datetime, thresholds: Thresholds) -> list[Newcomer]:
    """Young accounts, or accounts with a young `real_person` attestation, that gave at least
    `many` live confirmations within `young`; most confirmations first."""
    recent: dict[str, int] = {}
    for edge in rows.edges:
        if now - thresholds.young < edge.at <= now:
            recent[edge.voucher] = recent.get(edge.voucher, 0) + 1
    found = []
    for voucher, given in recent.items():
        if given < thresholds.many:
            continue
        account = _days(rows.created.get(voucher), now, thresholds.young)
        real_person = _days(rows.real_person_since.get(voucher), now, thresholds.young)
        if account is not None or real_person is not None:
            found.append(Newcomer(voucher, given, account, real_person, voucher in rows.seeds))
    return sorted(found, key=lambda n: (-n.given, n.voucher))


def warning_signs(
    rules: VouchingRules,
    rows: GraphRows,
    now: dt.datetime,
    thresholds: Thresholds | None = None,
) -> WarningSigns:
    limits = thresholds or Thresholds()
    return WarningSigns(
        clusters=tuple(mutual_clusters(rows.edges, limits)),
        near_quota=tuple(near_quota(rules, rows, now, limits)),
        newcomers=tuple(newcomers(rows, now, limits)),
    )


def accounts_named(signs: WarningSigns) -> set[str]:
    """Every account a sign names (to turn into references in one go)."""
    named = {m for c in signs.clusters for m in c.members}
    named.update(q.voucher for q in signs.near_quota)
    named.update(n.voucher for n in signs.newcomers)
    return named
