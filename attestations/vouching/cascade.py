"""The cascade: what follows when a steward finds an account fake or an account is erased
(the periodic settling of the whole graph, in batches, is in `settling`).

Unwinding (`unwind`) re-judges the peer attestations of a set of accounts against the rules
with what is known now — those still valid and those that ended by expiry, whose holders
vouched while they were valid; each that no longer meets its threshold lapses (its credentials
are revoked), and the accounts its holder vouched for are judged next, round after round, until
nothing changes (a fixed point: every round revokes something or stops). A round reads the
graph and ends its grants in a few statements whatever its size (`graph`, `lapses`). Every
step is an audit entry under opaque references only.

Where claims change (a resident no longer holds any `real_person` attestation; a fake loses
all of theirs), a `ClaimsListener` is called in the same transaction, as the consent ledger
calls its `WithdrawalListener`: the caller passes one that tells the platforms (a CAEP
token-claims-change; `rights` holds the platforms, the consent ledger and the outbox, and sits
above this package), and the outcome lists the changes as well.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from attestations.models import CredentialOffer, IssuedCredential
from attestations.statuslist import revoke_all_credentials
from attestations.vouching.config import VouchingConfig
from attestations.vouching.grants import GRAPH_LOCK, sound_grants
from attestations.vouching.graph import REAL_PERSON, among, load_graph, vouchees_of
from attestations.vouching.lapses import Ended, holders, lapse_grants
from attestations.vouching.models import (
    Confirmation,
    FakeReport,
    PeerGrant,
    SeedVoucher,
    Suspension,
)
from attestations.vouching.rules import meets_threshold
from attestations.wallet.claims import SOURCES
from audit import Pending, record_many
from core import lock_named, utcnow
from keys import SubjectKeys

# (session, account id, the OIDC claims no longer released, when)
ClaimsListener = Callable[[Session, str, tuple[str, ...], dt.datetime], None]


@dataclass(frozen=True)
class Lapse:
    account_id: str
    grant_id: str
    revoked: tuple[str, ...]  # credential ids
    lost_real_person: bool  # no `real_person` attestation of any source is left


@dataclass(frozen=True)
class ClaimsChange:
    account_id: str
    claims: tuple[str, ...]


@dataclass(frozen=True)
class CascadeOutcome:
    withdrawn: tuple[str, ...] = ()  # confirmation ids
    suspended: tuple[str, ...] = ()  # voucher account ids
    revoked: tuple[str, ...] = ()  # the unmasked account's credential ids
    lapsed: tuple[Lapse, ...] = ()
    changes: tuple[ClaimsChange, ...] = ()


def claims_of_types(types: Iterable[str]) -> tuple[str, ...]:
    """The OIDC claims attested by credentials of these types (`attestations.wallet`)."""
    wanted = set(types)
    return tuple(sorted(name for name, (type_id, _) in SOURCES.items() if type_id in wanted))


def _notify(
    session: Session,
    listener: ClaimsListener | None,
    change: ClaimsChange,
    now: dt.datetime,
) -> ClaimsChange:
    if listener is not None and change.claims:
        listener(session, change.account_id, change.claims, now)
    return change


def unwind(
    session: Session,
    subject_keys: SubjectKeys,
    config: VouchingConfig,
    accounts: Iterable[str],
    *,
    actor: str,
    now: dt.datetime,
    reason: str = "below_threshold",
) -> list[Lapse]:
    """Lapse the peer attestations of `accounts`, and then of everyone they depended on, that
    no longer meet the threshold. The caller holds GRAPH_LOCK."""
    rules = config.rules
    frontier = set(accounts)
    lapses: list[Lapse] = []
    while frontier:
        # expired grants too: their credentials vouched while valid, and a voucher found
        # wanting takes those confirmations back however long ago they were given
        grants = sound_grants(session, frontier)
        if not grants:
            break
        graph = load_graph(session, {g.account_id for g in grants}, now)
        failing = [
            g for g in grants if not meets_threshold(rules, graph, g.account_id, g.granted_at)
        ]
        ended = lapse_grants(session, subject_keys, failing, reason, actor, now)
        lapses += _lapses(session, failing, ended, now)
        losers = {g.account_id for g in failing if g.id in ended and ended[g.id].discredited}
        frontier = vouchees_of(session, losers)
    return lapses


def _lapses(
    session: Session, grants: Sequence[PeerGrant], ended: dict[str, Ended], now: dt.datetime
) -> list[Lapse]:
    """What ending the grants did, for the outcome (those that had ended already left out)."""
    kept = holders(session, {g.account_id for g in grants if g.id in ended}, now)
    return [
        Lapse(g.account_id, g.id, revoked, bool(revoked) and g.account_id not in kept)
        for g in grants
        if g.id in ended
        for revoked in [ended[g.id].revoked]
    ]


def _changes(
    session: Session, lapses: list[Lapse], listener: ClaimsListener | None, now: dt.datetime
) -> tuple[ClaimsChange, ...]:
    lost = sorted({lapse.account_id for lapse in lapses if lapse.lost_real_person})
    return tuple(
        _notify(session, listener, ClaimsChange(account, (REAL_PERSON,)), now) for account in lost
    )


class Withdrawn(NamedTuple):
    id: str  # the confirmation's
    vouchee_id: str


def withdraw_given(
    session: Session,
    subject_keys: SubjectKeys,
    account_id: str,
    reason: str,
    actor: str,
    now: dt.datetime,
) -> list[Withdrawn]:
    """Withdraw every live confirmation the account gave, each with its audit entry."""
    given = [
        Withdrawn(*row)
        for row in session.execute(
            select(Confirmation.id, Confirmation.vouchee_id)
            .where(Confirmation.voucher_id == account_id, Confirmation.withdrawn_at.is_(None))
            .order_by(Confirmation.created_at, Confirmation.id)
        )
    ]
    for part in among(session, Confirmation.id, (row.id for row in given)):
        session.execute(
            update(Confirmation)
            .where(part)
            .values(withdrawn_at=now, withdrawn_reason=reason)
            .execution_options(synchronize_session="fetch")
        )
    references = subject_keys.references(session, {row.vouchee_id for row in given})
    record_many(
        session,
        [
            Pending(
                "vouching.confirmation_withdrawn",
                actor,
                references.get(row.vouchee_id),
                {"confirmation": row.id, "reason": reason},
            )
            for row in given
        ],
    )
    return given


def _suspend_vouchers(
    session: Session,
    subject_keys: SubjectKeys,
    config: VouchingConfig,
    fake_id: str,
    report_id: str,
    actor: str,
    now: dt.datetime,
) -> list[str]:
    """Everyone who vouched for the fake is suspended; offences after the first cost a slot.
    Vouching for one fake is one offence, however often it is found fake (a later report on
    it, decided fake again, must not suspend its vouchers again)."""
    punished = (
        select(Suspension.id)
        .join(FakeReport, FakeReport.id == Suspension.report_id)
        .where(Suspension.voucher_id == Confirmation.voucher_id, FakeReport.reported_id == fake_id)
        .exists()
    )
    vouchers = sorted(
        set(
            session.scalars(
                select(Confirmation.voucher_id).where(
                    Confirmation.vouchee_id == fake_id,
                    Confirmation.withdrawn_at.is_(None),
                    Confirmation.created_at <= now,
                    ~punished,
                )
            )
        )
    )
    entries = []
    for voucher in vouchers:
        until = now + config.rules.suspension
        session.add(
            Suspension(
                id=uuid.uuid4().hex,
                voucher_id=voucher,
                report_id=report_id,
                starts_at=now,
                until=until,
            )
        )
        session.flush()
        offences = len(
            session.scalars(select(Suspension.id).where(Suspension.voucher_id == voucher)).all()
        )
        details = {
            "report": report_id,
            "until": until.isoformat(),
            "offences": offences,
            "quota": config.rules.quota_for(offences),
        }
        entries.append(
            Pending("vouching.suspended", actor, subject_keys.reference(session, voucher), details)
        )
    record_many(session, entries)
    return vouchers


def unmask(
    session: Session,
    subject_keys: SubjectKeys,
    config: VouchingConfig,
    *,
    fake_id: str,
    report_id: str,
    actor: str,
    now: dt.datetime,
    listener: ClaimsListener | None = None,
) -> CascadeOutcome:
    """A steward found `fake_id` fake: its attestations are revoked and its waiting offers
    withdrawn, its seed appointment ends, every confirmation it gave is withdrawn, its vouchers
    are suspended, and the cascade unwinds what rested on it. The caller holds GRAPH_LOCK."""
    types = set(
        session.scalars(
            select(IssuedCredential.type).where(
                IssuedCredential.account_id == fake_id,
                IssuedCredential.revoked_at.is_(None),
                IssuedCredential.expires_at > now,
            )
        )
    )
    revoked = revoke_all_credentials(session, fake_id, "fake", actor, now)
    lapse_grants(session, subject_keys, sound_grants(session, {fake_id}), "fake", actor, now)
    session.execute(
        delete(CredentialOffer)
        .where(CredentialOffer.account_id == fake_id)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(SeedVoucher)
        .where(SeedVoucher.account_id == fake_id, SeedVoucher.removed_at.is_(None))
        .values(removed_at=now, removed_by=actor)
        .execution_options(synchronize_session=False)
    )
    withdrawn = withdraw_given(session, subject_keys, fake_id, "fake_voucher", actor, now)
    suspended = _suspend_vouchers(session, subject_keys, config, fake_id, report_id, actor, now)
    own = _notify(session, listener, ClaimsChange(fake_id, claims_of_types(types)), now)
    lapses = unwind(
        session, subject_keys, config, {row.vouchee_id for row in withdrawn}, actor=actor, now=now
    )
    return CascadeOutcome(
        withdrawn=tuple(row.id for row in withdrawn),
        suspended=tuple(suspended),
        revoked=tuple(revoked),
        lapsed=tuple(lapses),
        changes=(own,) * bool(own.claims) + _changes(session, lapses, listener, now),
    )


def forget_account(
    session: Session,
    subject_keys: SubjectKeys,
    config: VouchingConfig,
    *,
    account_id: str,
    actor: str,
    now: dt.datetime | None = None,
    listener: ClaimsListener | None = None,
) -> CascadeOutcome:
    """Before an account is erased (while its data key still exists, for the audit
    references): the confirmations it gave stop counting, its own grants lapse, and the cascade
    runs. Deleting the account then removes every edge it gave or got (ON DELETE CASCADE)."""
    moment = now or utcnow()
    lock_named(session, GRAPH_LOCK)
    grants = sound_grants(session, {account_id})
    lapse_grants(session, subject_keys, grants, "erasure", actor, moment)
    withdrawn = withdraw_given(session, subject_keys, account_id, "erasure", actor, moment)
    lapses = unwind(
        session,
        subject_keys,
        config,
        {row.vouchee_id for row in withdrawn},
        actor=actor,
        now=moment,
    )
    return CascadeOutcome(
        withdrawn=tuple(row.id for row in withdrawn),
        lapsed=tuple(lapses),
        changes=_changes(session, lapses, listener, moment),
    )
