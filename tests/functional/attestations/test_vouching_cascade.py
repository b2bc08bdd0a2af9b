"""The cascade of peer vouching (issue 10) in the database: a ring of fake accounts resting on
one compromised voucher is unwound when a steward finds that voucher fake, while honest
members with enough other confirmations keep their status; the vouchers of a fake are
suspended for 120 days and lose a slot for each later offence; the pair rule; erasure; and
expiry, which ends an attestation without taking back what its holder vouched before.

Time is passed explicitly (`now=`): day 0 is the start of each test, seeds and desk
attestations exist from day -60. Credentials are collected as a wallet would, in-process
(`tests.support.vouching.collect`)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from attestations import vouching
from attestations.issuance import create_offer
from attestations.models import IssuedCredential
from attestations.vouching.models import (
    Confirmation,
    ConfirmationRequest,
    FakeReport,
    PeerGrant,
    SeedVoucher,
    Suspension,
    VouchingAddress,
)
from attestations.vouching.rules import DAY, VouchingRules
from audit.models import AuditEntry
from core.db import utcnow
from rights.erasure import execute_erasure
from service.runtime import Runtime
from tests.support.attestations import make_account
from tests.support.vouching import collect, confirm

SETUP = -60  # the day seeds are appointed and desk attestations issued


class Neighbourhood:
    """Named residents and a day counter; every act at `day(n)`."""

    def __init__(self, runtime: Runtime, session: Session) -> None:
        self.runtime, self.session = runtime, session
        self.start = utcnow().replace(microsecond=0)
        self.ids: dict[str, str] = {}
        self.changes: list[tuple[str, tuple[str, ...]]] = []  # what platforms would be told
        self.steward = make_account(session, runtime.subject_keys)

    @property
    def config(self) -> vouching.VouchingConfig:
        return self.runtime.vouching

    def day(self, n: float) -> dt.datetime:
        return self.start + n * DAY

    def name_of(self, account_id: str) -> str:
        return next(name for name, known in self.ids.items() if known == account_id)

    def add(self, *names: str) -> None:
        for name in names:
            self.ids[name] = make_account(self.session, self.runtime.subject_keys)
        self.session.commit()

    def seed(self, *names: str) -> None:
        self.add(*names)
        for name in names:
            vouching.appoint_seed(
                self.session,
                self.runtime.subject_keys,
                account_id=self.ids[name],
                actor="operator:test",
                now=self.day(SETUP),
            )
        self.session.commit()

    def desk(self, *names: str) -> None:
        """Residents verified at the desk on day -60."""
        self.add(*names)
        for name in names:
            offer = create_offer(
                self.session,
                self.runtime.subject_keys,
                self.runtime.attestations,
                account_id=self.ids[name],
                type_id="real_person",
                claims={"verification": "desk"},
                actor="desk:test",
                now=self.day(SETUP),
            )
            collect(self.session, self.runtime, offer, self.day(SETUP))
        self.session.commit()

    def confirm(self, voucher: str, vouchee: str, day: float) -> None:
        confirm(self.session, self.runtime, self.ids[voucher], self.ids[vouchee], self.day(day))

    def refusal(self, voucher: str, vouchee: str, day: float) -> str | None:
        try:
            self.confirm(voucher, vouchee, day)
        except vouching.ConfirmationRefused as refused:
            return refused.reason
        raise AssertionError(f"{voucher} could confirm {vouchee}")

    def claim(self, name: str, day: float) -> str:
        """A peer attestation offered and collected; the credential's id."""
        offer = vouching.issue_peer_attestation(
            self.session,
            self.runtime.subject_keys,
            self.config,
            account_id=self.ids[name],
            now=self.day(day),
        )
        credential = collect(self.session, self.runtime, offer.offer, self.day(day))
        self.session.commit()
        return credential

    def listener(self, session: Session, account: str, claims: tuple[str, ...], at: object) -> None:
        self.changes.append((self.name_of(account), claims))

    def find_fake(self, name: str, day: float, reporter: str) -> vouching.Decision:
        keys = self.runtime.subject_keys
        report = vouching.report_fake(
            self.session,
            keys,
            reporter_id=self.ids[reporter],
            reported_id=self.ids[name],
            now=self.day(day),
        )
        decision = vouching.decide(
            self.session,
            keys,
            self.config,
            report_id=report,
            steward_id=self.steward,
            fake=True,
            listener=self.listener,
            now=self.day(day),
        )
        self.session.commit()
        return decision

    def settle(self, day: float) -> vouching.CascadeOutcome:
        outcome = vouching.settle(
            self.session,
            self.runtime.subject_keys,
            self.config,
            now=self.day(day),
            listener=self.listener,
        )
        self.session.commit()
        return outcome

    def holders(self, day: float) -> set[str]:
        """Who holds a valid `real_person` attestation (of any source) on that day."""
        held = self.session.scalars(
            select(IssuedCredential.account_id).where(
                IssuedCredential.type == "real_person",
                IssuedCredential.revoked_at.is_(None),
                IssuedCredential.expires_at > self.day(day),
            )
        )
        return {self.name_of(a) for a in held if a is not None and a in self.ids.values()}

    def progress(self, name: str, day: float) -> vouching.Progress:
        return vouching.progress(self.session, self.config, self.ids[name], self.day(day))

    def lapsed(self, outcome: vouching.CascadeOutcome) -> set[str]:
        return {self.name_of(lapse.account_id) for lapse in outcome.lapsed}


@pytest.fixture
def hood(runtime: Runtime, session: Session) -> Neighbourhood:
    return Neighbourhood(runtime, session)


@contextmanager
def rules_of(runtime: Runtime, rules: VouchingRules) -> Iterator[None]:
    saved = runtime.vouching
    runtime.vouching = dataclasses.replace(saved, rules=rules)
    try:
        yield
    finally:
        runtime.vouching = saved


# --- the ring ------------------------------------------------------------------------------------


def build_ring(hood: Neighbourhood) -> None:
    """Host `mallory` (a seed, compromised) and `henk` (a seed she fooled) confirm fakes f1
    and f2; a month later f1 and mallory confirm f3, and f2 with honest host `sara` confirms
    f5: f5 rests on mallory only through f2. Honest `mia` has mallory and two honest hosts;
    `max` has mallory and one; `mo` has f1 and two honest hosts."""
    hood.seed("mallory", "henk", "sara", "stef")
    hood.add("f1", "f2", "f3", "f5", "mia", "max", "mo")
    for voucher, vouchee in [
        ("mallory", "f1"),
        ("mallory", "f2"),
        ("henk", "f1"),
        ("henk", "f2"),
        ("mallory", "mia"),
        ("sara", "mia"),
        ("stef", "mia"),
    ]:
        hood.confirm(voucher, vouchee, 0)
    for name in ("f1", "f2", "mia"):
        hood.claim(name, 0.5)
    for voucher, vouchee in [
        ("mallory", "f3"),
        ("f1", "f3"),
        ("f2", "f5"),
        ("sara", "f5"),
        ("mallory", "max"),
        ("stef", "max"),
        ("f1", "mo"),
        ("sara", "mo"),
        ("stef", "mo"),
    ]:
        hood.confirm(voucher, vouchee, 31)
    for name in ("f3", "f5", "max", "mo"):
        hood.claim(name, 31.5)


def test_a_ring_on_one_compromised_voucher_unwinds_and_honest_members_keep_their_status(
    hood: Neighbourhood, session: Session
) -> None:
    build_ring(hood)
    everyone = {"f1", "f2", "f3", "f5", "mia", "max", "mo"}
    assert hood.holders(40) == everyone

    decision = hood.find_fake("mallory", 40, reporter="sara")

    # f1, f2, f3 and max had mallory's confirmation; f5 rested on f2 (the next round)
    assert hood.lapsed(decision.outcome) == {"f1", "f2", "f3", "f5", "max"}
    assert hood.holders(40) == {"mia", "mo"}
    assert sorted(hood.changes) == [(n, ("real_person",)) for n in ("f1", "f2", "f3", "f5", "max")]
    assert {hood.name_of(c) for c in decision.outcome.suspended} == set()  # a seed: no vouchers
    withdrawn = session.scalars(
        select(Confirmation).where(Confirmation.id.in_(decision.outcome.withdrawn))
    ).all()
    assert {hood.name_of(c.vouchee_id) for c in withdrawn} == {"f1", "f2", "f3", "mia", "max"}
    assert {c.withdrawn_reason for c in withdrawn} == {"fake_voucher"}
    reasons = session.scalars(
        select(IssuedCredential.revocation_reason).where(IssuedCredential.revoked_at.is_not(None))
    ).all()
    assert reasons == ["vouch_withdrawn"] * 5
    assert not session.scalar(
        select(SeedVoucher.id).where(
            SeedVoucher.account_id == hood.ids["mallory"], SeedVoucher.removed_at.is_(None)
        )
    )
    events = session.scalars(select(AuditEntry.event)).all()
    assert events.count("vouching.peer_lapsed") == 5
    assert events.count("vouching.confirmation_withdrawn") == 5

    # the periodic sweep finds nothing more to unwind: the cascade was complete
    assert hood.settle(41).lapsed == ()
    # max, honest, may re-verify with a fresh confirmation
    assert hood.progress("max", 42) == vouching.Progress(1, 2, verified=False, can_claim=False)
    hood.confirm("henk", "max", 42)
    assert hood.progress("max", 42).can_claim
    hood.claim("max", 42.5)
    assert hood.holders(43) == {"mia", "mo", "max"}


def test_the_vouchers_of_a_fake_are_suspended_for_120_days_and_later_offences_cost_a_slot(
    hood: Neighbourhood, session: Session
) -> None:
    build_ring(hood)
    hood.add("newcomer", "neighbour", "third", "fourth")
    decision = hood.find_fake("f1", 40, reporter="sara")
    assert {hood.name_of(v) for v in decision.outcome.suspended} == {"mallory", "henk"}
    # f1's own attestation is revoked as a fake's; f3 had f1 and mallory, mo keeps sara and stef
    assert hood.lapsed(decision.outcome) == {"f3"}
    assert hood.holders(40) == {"f2", "f5", "mia", "max", "mo"}
    [suspension] = session.scalars(
        select(Suspension).where(Suspension.voucher_id == hood.ids["henk"])
    ).all()
    assert suspension.until - suspension.starts_at == 120 * DAY

    assert hood.refusal("henk", "newcomer", 40 + 119.9) == "suspended"
    hood.confirm("henk", "newcomer", 160)  # the first offence costs the suspension only
    hood.confirm("henk", "neighbour", 160)
    hood.confirm("henk", "third", 160)
    assert hood.refusal("henk", "fourth", 160) == "quota"

    # a second offence: suspended again, and two confirmations per 30 days from then on
    hood.find_fake("f2", 200, reporter="sara")
    assert hood.refusal("henk", "fourth", 250) == "suspended"
    hood.confirm("henk", "fourth", 320)
    hood.confirm("henk", "mo", 320)
    assert hood.refusal("henk", "max", 320) == "quota"
    assert hood.refusal("henk", "max", 349.9) == "quota"
    hood.confirm("henk", "max", 350.1)


def test_a_second_finding_on_the_same_fake_is_not_a_second_offence_of_its_vouchers(
    hood: Neighbourhood, session: Session
) -> None:
    build_ring(hood)
    first = hood.find_fake("f1", 40, reporter="sara")
    again = hood.find_fake("f1", 41, reporter="stef")
    assert {hood.name_of(v) for v in first.outcome.suspended} == {"mallory", "henk"}
    assert again.outcome.suspended == () and again.outcome.lapsed == ()
    offences = session.scalars(
        select(Suspension.id).where(Suspension.voucher_id == hood.ids["henk"])
    ).all()
    assert len(offences) == 1
    states = session.scalars(
        select(FakeReport.state).where(FakeReport.reported_id == hood.ids["f1"])
    ).all()
    assert states == ["fake", "fake"]


# --- the pair rule -------------------------------------------------------------------------------


def test_two_unverified_accounts_confirming_each_other_help_neither(hood: Neighbourhood) -> None:
    hood.seed("anna", "bert", "cor")
    hood.desk("dirk")
    for voucher, vouchee in [("anna", "bert"), ("bert", "anna"), ("cor", "anna"), ("cor", "bert")]:
        hood.confirm(voucher, vouchee, 0)
    assert hood.progress("anna", 1).confirmations == 1
    assert hood.progress("bert", 1).confirmations == 1
    with pytest.raises(vouching.ThresholdNotMet):
        hood.claim("anna", 1)
    # a verified voucher counts; anna's own attestation comes too late to lift the pair
    hood.confirm("dirk", "anna", 2)
    hood.claim("anna", 2.5)
    assert hood.progress("bert", 40).confirmations == 1


def test_a_pair_formed_after_a_grant_does_not_take_it_back(hood: Neighbourhood) -> None:
    hood.seed("anna", "bert", "cor")
    hood.confirm("anna", "bert", 0)
    hood.confirm("cor", "bert", 0)
    keys = hood.runtime.subject_keys
    offer = vouching.issue_peer_attestation(
        hood.session, keys, hood.config, account_id=hood.ids["bert"], now=hood.day(1)
    )
    # before collecting it, still unverified, bert confirms anna: now the two form a pair
    hood.confirm("bert", "anna", 1 + 1 / 1440)
    collect(hood.session, hood.runtime, offer.offer, hood.day(1 + 2 / 1440))
    hood.session.commit()
    assert hood.progress("bert", 2).confirmations == 1
    assert hood.settle(2).lapsed == ()  # the grant was justified when it was made
    assert hood.holders(2) == {"bert"}


# --- erasure -------------------------------------------------------------------------------------


def test_erasing_a_voucher_withdraws_what_they_gave_and_the_graph_forgets_them(
    hood: Neighbourhood, runtime: Runtime, session: Session
) -> None:
    hood.seed("anna", "bert", "cor")
    hood.add("klaas", "marie")
    for voucher, vouchee in [
        ("anna", "klaas"),
        ("bert", "klaas"),
        ("anna", "marie"),
        ("bert", "marie"),
        ("cor", "marie"),
    ]:
        hood.confirm(voucher, vouchee, 0)
    hood.claim("klaas", 1)
    hood.claim("marie", 1)
    anna = hood.ids["anna"]
    hood.confirm("klaas", "anna", 40)  # anna also received a confirmation

    outcome = vouching.forget_account(
        session,
        runtime.subject_keys,
        runtime.vouching,
        account_id=anna,
        actor="operator:test",
        now=hood.day(50),
        listener=hood.listener,
    )
    assert hood.lapsed(outcome) == {"klaas"}
    assert hood.changes == [("klaas", ("real_person",))]
    execute_erasure(
        session,
        runtime.oidc,
        account_id=anna,
        requested_by="operator",
        actor="operator:test",
        now=hood.day(50),
    )
    session.commit()

    assert hood.holders(50) == {"marie"}
    for table, columns in [
        (Confirmation, (Confirmation.voucher_id, Confirmation.vouchee_id)),
        (ConfirmationRequest, (ConfirmationRequest.vouchee_id,)),
        (SeedVoucher, (SeedVoucher.account_id,)),
        (PeerGrant, (PeerGrant.account_id,)),
        (Suspension, (Suspension.voucher_id,)),
        (FakeReport, (FakeReport.reporter_id, FakeReport.reported_id)),
        (VouchingAddress, (VouchingAddress.account_id,)),
    ]:
        found = session.scalars(select(table).where(or_(*(c == anna for c in columns)))).all()
        assert found == [], table.__tablename__
    assert (
        vouching.settle(session, runtime.subject_keys, runtime.vouching, now=hood.day(51)).lapsed
        == ()
    )


# --- expiry -------------------------------------------------------------------------------------


def test_a_voucher_whose_expired_attestation_turns_out_unfounded_takes_back_what_they_gave(
    hood: Neighbourhood,
) -> None:
    """vera's attestation rests on a host later found fake, and has expired by then; while it
    was valid she confirmed alex, who must lose his attestation too."""
    hood.seed("sam", "sly", "sue")
    hood.add("vera", "alex")
    hood.confirm("sam", "vera", 0)
    hood.confirm("sly", "vera", 0)
    hood.claim("vera", 0.5)
    hood.confirm("vera", "alex", 35)
    hood.confirm("sue", "alex", 35)
    hood.claim("alex", 35.5)
    assert hood.holders(370) == {"alex"}  # vera's expired on day 365

    decision = hood.find_fake("sly", 370, reporter="sam")
    assert hood.lapsed(decision.outcome) == {"vera", "alex"}
    assert hood.holders(370) == set()
    assert hood.changes == [("alex", ("real_person",))]  # vera had lost hers by expiry


def test_a_shorter_peer_validity_ends_attestations_without_undoing_what_they_vouched(
    hood: Neighbourhood, runtime: Runtime
) -> None:
    """With a 100-day peer validity, vera's attestation ends when settle runs after day 100,
    whenever that is (day 120 here); alex, whom she confirmed while it was valid, keeps his."""
    with rules_of(runtime, VouchingRules(peer_validity=100 * DAY)):
        hood.seed("sam", "sly", "sue")
        hood.add("vera", "alex")
        hood.confirm("sam", "vera", 0)
        hood.confirm("sly", "vera", 0)
        vera = hood.claim("vera", 0.5)
        hood.confirm("vera", "alex", 35)
        hood.confirm("sue", "alex", 35)
        hood.claim("alex", 35.5)
        assert hood.settle(99).lapsed == ()

        outcome = hood.settle(120)
        assert hood.lapsed(outcome) == {"vera"}
        assert hood.changes == [("vera", ("real_person",))]
        assert hood.holders(120) == {"alex"}
        row = hood.session.get(IssuedCredential, vera)
        assert row is not None and row.revocation_reason == "peer_expired"
        assert hood.settle(121).lapsed == ()
        # what vera vouched while valid still counts, and still goes if her basis does
        decision = hood.find_fake("sly", 125, reporter="sam")
        assert hood.lapsed(decision.outcome) == {"vera", "alex"}
        assert hood.holders(125) == set()
