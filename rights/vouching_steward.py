"""Peer vouching as stewards and operators see it (issue 10): the open reports of fake profiles,
the decision on one, and the warning signs of the confirmation graph, with every account turned
into its opaque audit reference here, so no page, API answer or CLI line can show an account id,
a name or an address. Plain functions; the pages, the API and the CLI call them.

Deciding is per reported account: "fake" decides every open report on it at once (the domain
does), and "dismiss" dismisses every open report on it too, so a steward never sees the same
account come back for a decision already taken."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from adapters import Mailer
from attestations import vouching
from core import utcnow
from identity import Provider
from keys import SubjectKeyDestroyed, SubjectKeys
from rights.vouching_mail import stage_lapse_mails
from rights.vouching_signals import VouchingSignals

SHOWN = 100  # entries of one warning sign shown at most (the counts say how many there are)


def reference(session: Session, subject_keys: SubjectKeys, account_id: str) -> str:
    """The account's audit reference (the one the audit log and the audit page filter by)."""
    try:
        return subject_keys.reference(session, account_id)
    except SubjectKeyDestroyed:  # erased meanwhile: nothing left to name
        return "-"


@dataclasses.dataclass(frozen=True)
class ReportView:
    report_id: str  # the one a decision names
    subject_ref: str
    reports: int
    first_at: dt.datetime
    last_at: dt.datetime
    gave: int
    got: int
    real_person: bool

    def to_json(self) -> dict[str, Any]:
        found = dataclasses.asdict(self)
        found["first_at"], found["last_at"] = self.first_at.isoformat(), self.last_at.isoformat()
        return found


def _report_view(
    session: Session, subject_keys: SubjectKeys, line: vouching.ReportLine
) -> ReportView:
    return ReportView(
        report_id=line.report_id,
        subject_ref=reference(session, subject_keys, line.account_id),
        reports=len(line.report_ids),
        first_at=line.first_at,
        last_at=line.last_at,
        gave=line.gave,
        got=line.got,
        real_person=line.real_person,
    )


def report_views(
    session: Session, subject_keys: SubjectKeys, now: dt.datetime | None = None
) -> list[ReportView]:
    """Every account with open reports, the longest waiting first."""
    lines = vouching.open_reports(session, now or utcnow())
    return [_report_view(session, subject_keys, line) for line in lines]


def report_view(
    session: Session, subject_keys: SubjectKeys, report_id: str, now: dt.datetime | None = None
) -> ReportView | None:
    """The open report's line, or None (unknown or decided: the same for both)."""
    line = vouching.open_report(session, report_id, now or utcnow())
    return None if line is None else _report_view(session, subject_keys, line)


@dataclasses.dataclass(frozen=True)
class DecisionView:
    """What a decision did, in counts and opaque references."""

    report_id: str
    subject_ref: str
    fake: bool
    reports: int  # reports decided with it
    credentials_revoked: int  # the fake's own attestations
    withdrawn: int  # confirmations the fake gave
    suspended: tuple[str, ...]  # vouchers of the fake
    lapsed: int  # peer attestations that lapsed in the cascade
    lost_real_person: tuple[str, ...]  # residents left without any real_person attestation
    platform_events: int  # token-claims-change events queued

    def to_json(self) -> dict[str, Any]:
        found = dataclasses.asdict(self)
        found["suspended"], found["lost_real_person"] = (
            list(self.suspended),
            list(self.lost_real_person),
        )
        return found


def decide_report(
    session: Session,
    provider: Provider,
    config: vouching.VouchingConfig,
    *,
    report_id: str,
    steward_id: str,
    fake: bool,
    now: dt.datetime | None = None,
    mailer: Mailer | None = None,
) -> DecisionView:
    """Decide the reported account (see the module docstring); `vouching.ReportNotFound` when
    the report is unknown or decided already, `vouching.ReportRefused` when it is on the
    steward's own account. Platforms are told of every claim that changed and, with `mailer`,
    residents who lost `real_person` are e-mailed once the caller commits. The caller
    commits."""
    moment = now or utcnow()
    keys = provider.subject_keys
    line = vouching.open_report(session, report_id, moment)
    if line is None:
        raise vouching.ReportNotFound()
    if line.account_id == steward_id:  # nobody judges their own case
        raise vouching.ReportRefused("A steward cannot decide a report on their own account.")
    signals = VouchingSignals.of(provider, initiating_entity="admin")
    targets = [report_id] if fake else list(line.report_ids)
    decisions = [
        vouching.decide(
            session,
            keys,
            config,
            report_id=target,
            steward_id=steward_id,
            fake=fake,
            listener=signals,
            now=moment,
        )
        for target in targets
    ]
    outcome = decisions[0].outcome
    if mailer is not None:
        stage_lapse_mails(session, mailer, keys, provider.config.issuer, outcome.lapsed)
    lost = sorted({lapse.account_id for lapse in outcome.lapsed if lapse.lost_real_person})
    return DecisionView(
        report_id=report_id,
        subject_ref=reference(session, keys, line.account_id),
        fake=fake,
        reports=len(line.report_ids),
        credentials_revoked=len(outcome.revoked),
        withdrawn=len(outcome.withdrawn),
        suspended=tuple(sorted(reference(session, keys, a) for a in outcome.suspended)),
        lapsed=len(outcome.lapsed),
        lost_real_person=tuple(sorted(reference(session, keys, a) for a in lost)),
        platform_events=signals.queued,
    )


@dataclasses.dataclass(frozen=True)
class GraphView:
    summary: vouching.GraphSummary
    clusters: list[dict[str, Any]]
    near_quota: list[dict[str, Any]]
    newcomers: list[dict[str, Any]]
    counts: dict[str, int]  # how many of each sign there are (the lists stop at SHOWN)
    thresholds: vouching.Thresholds

    def to_json(self) -> dict[str, Any]:
        limits = dataclasses.asdict(self.thresholds)
        limits["young_days"] = self.thresholds.young.days
        del limits["young"]
        return {
            "summary": dataclasses.asdict(self.summary),
            "counts": self.counts,
            "thresholds": limits,
            "clusters": self.clusters,
            "near_quota": self.near_quota,
            "newcomers": self.newcomers,
        }


def graph_view(
    session: Session,
    subject_keys: SubjectKeys,
    config: vouching.VouchingConfig,
    now: dt.datetime | None = None,
    thresholds: vouching.Thresholds | None = None,
) -> GraphView:
    """The graph's summary and warning signs, accounts as opaque references only."""
    moment = now or utcnow()
    limits = thresholds or vouching.Thresholds()
    rows = vouching.graph_rows(session, config.rules, moment)
    signs = vouching.warning_signs(config.rules, rows, moment, limits)

    def ref(account_id: str) -> str:
        return reference(session, subject_keys, account_id)

    clusters = [
        {
            "members": sorted(ref(m) for m in c.members),
            "size": len(c.members),
            "inside": c.inside,
            "received": c.received,
            "share": round(c.share, 2),
        }
        for c in signs.clusters[:SHOWN]
    ]
    quota = [
        {"subject_ref": ref(q.voucher), "used": q.used, "quota": q.quota, "left": q.left}
        for q in signs.near_quota[:SHOWN]
    ]
    newcomers = [
        {
            "subject_ref": ref(n.voucher),
            "given": n.given,
            "account_days": n.account_days,
            "real_person_days": n.real_person_days,
            "seed": n.seed,
        }
        for n in signs.newcomers[:SHOWN]
    ]
    counts = {
        "clusters": len(signs.clusters),
        "near_quota": len(signs.near_quota),
        "newcomers": len(signs.newcomers),
    }
    summary = vouching.graph_summary(session, moment)
    return GraphView(summary, clusters, quota, newcomers, counts, limits)
