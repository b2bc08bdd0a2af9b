"""The desk (#12 part 3): an operator at the municipal desk or a community host, holding the
`desk` role, checks an ID document in person and then issues a `postcode`, `age` or
`real_person` attestation to a resident's account (`residence_source` / `verification`:
`desk`), or creates an account for someone without e-mail (a paper activation code).

With a `postcode` attestation the operator may give the house number (and addition) they saw
on the document: it serves only peer vouching's shared-address rule, which keeps the keyed
hash of the address (`vouching.record_address_ref`); the house number itself is neither stored
nor put in the credential.

Every act names the operator by an opaque actor, `desk:<the operator's audit reference>`, in
the audit entry; the document itself is never recorded (only that one was checked). Access is
decided by `desk_operator` alone: anyone without the role sees the same 404 as for a path that
does not exist.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from sqlalchemy.orm import Session

from attestations.config import OFFER_TTL_BOUNDS, AttestationConfig
from attestations.errors import InvalidClaims
from attestations.issuance import CreatedOffer, create_offer
from attestations.types import credential_type, issuance_date
from attestations.vouching.addresses import record_address_ref
from attestations.vouching.config import AddressHasher
from core import InvalidInput, NotFound, utcnow
from identity import (
    DESK,
    Account,
    AccountError,
    Accounts,
    find_by_identifier,
    has_role,
    normalize_email,
)
from keys import SubjectKeys

DESK_TYPES = ("postcode", "age", "real_person")
SOURCE = "desk"
# A proof made at the desk waits a day (not the 15 minutes of an offer a wallet app takes on
# the spot): a resident without a smartphone collects it at home, logged in, with the code
# the desk gave them on paper; five wrong codes end it as before.
DESK_OFFER_TTL = OFFER_TTL_BOUNDS[1]


def waiting_a_day(config: AttestationConfig) -> AttestationConfig:
    """`config` for the offers the desk makes (`DESK_OFFER_TTL`)."""
    return dataclasses.replace(config, offer_ttl=DESK_OFFER_TTL)


class NotADeskOperator(NotFound):
    """What someone without the desk role sees: indistinguishable from an unknown path."""

    def __init__(self) -> None:
        super().__init__("Not Found")


class DeskRefused(Exception):
    """The desk form cannot be carried out as filled in: `errors` maps each field that is
    wrong (or `form`) to the page text that says why, all of them at once, so the operator
    corrects the form in one round."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__(", ".join(errors))
        self.errors = dict(errors)


def desk_operator(session: Session, account_id: str | None) -> str:
    """The operator's account id, if the account holds the desk role now (read afresh on every
    request, so revoking the role ends access at once); `NotADeskOperator` otherwise."""
    if account_id is None or not has_role(session, account_id, DESK):
        raise NotADeskOperator()
    return account_id


def desk_actor(session: Session, subject_keys: SubjectKeys, operator_id: str) -> str:
    """The opaque audit actor of an operator: their own audit reference, never a name."""
    return f"desk:{subject_keys.reference(session, operator_id)}"


def desk_claims(type_id: str, form: Mapping[str, str]) -> dict[str, object]:
    """The attestation type's input from the desk form (validated again by the type)."""
    if type_id == "postcode":
        return {
            "postcode": form.get("postcode", ""),
            "municipality": {
                "code": form.get("municipality_code", "").strip().upper(),
                "name": form.get("municipality_name", ""),
            },
            "residence_source": SOURCE,
        }
    if type_id == "age":
        return {"birth_date": form.get("birth_date", "").strip()}
    if type_id == "real_person":
        return {"verification": SOURCE}
    raise DeskRefused({"form": "desk.error.type"})


def desk_address_ref(
    type_id: str, form: Mapping[str, str], hasher: AddressHasher | None
) -> str | None:
    """The keyed hash of the address a `postcode` form gives, when the operator filled in the
    house number (optional); `DeskRefused` for a house number or addition that cannot be one.
    A malformed postcode is left to the type's own check (its error names the postcode)."""
    number = form.get("house_number", "").strip()
    if type_id != "postcode" or hasher is None or not number:
        return None
    try:
        return hasher(form.get("postcode", ""), number, form.get("house_addition", ""))
    except InvalidClaims:
        raise DeskRefused({"postcode": "desk.error.claims.postcode"}) from None
    except InvalidInput:
        raise DeskRefused({"house_number": "desk.error.house_number"}) from None


# where a type's refused input is shown: beside the field that holds it
CLAIMS_FIELD = {"postcode": "postcode", "age": "birth_date", "real_person": "form"}


def desk_resident(accounts: Accounts, session: Session, resident: str) -> Account:
    """The account the operator names by e-mail address or username; `DeskRefused` (on the
    `resident` field) when the field is empty or names no account."""
    who = resident.strip()
    if not who:
        raise DeskRefused({"resident": "desk.error.resident_empty"})
    try:
        account = find_by_identifier(accounts, session, normalize_email(who) if "@" in who else who)
    except AccountError:  # not an e-mail address after all
        account = None
    if account is None:
        raise DeskRefused({"resident": "desk.error.resident"})
    return account


def _check_claims(type_id: str, claims: Mapping[str, object]) -> None:
    """The type's own check of the input, before anything is stored (`create_offer` checks
    again), so that its refusal is reported together with the form's other errors."""
    try:
        credential_type(type_id).claims_from(claims, issuance_date(utcnow()))
    except InvalidClaims:
        raise DeskRefused({CLAIMS_FIELD[type_id]: "desk.error.claims." + type_id}) from None


@dataclasses.dataclass(frozen=True)
class DeskOffer:
    resident: Account
    type_id: str
    offer: CreatedOffer


def issue_at_desk(
    session: Session,
    accounts: Accounts,
    config: AttestationConfig,
    *,
    operator_id: str,
    resident: str,
    type_id: str,
    form: Mapping[str, str],
    document_checked: bool,
    address_hasher: AddressHasher | None = None,
) -> DeskOffer:
    """Offer an attestation of `type_id` to the resident (their e-mail address or username)
    after the operator checked an ID document in person. With `address_hasher` and a house
    number in a `postcode` form, the address's keyed hash is recorded for the resident (peer
    vouching). Every refusal of the form is reported at once (`DeskRefused.errors`); a refused
    form changes nothing. The caller commits."""
    if type_id not in DESK_TYPES:
        raise DeskRefused({"form": "desk.error.type"})
    errors: dict[str, str] = {}  # in the order of the form's fields
    account: Account | None = None
    try:
        account = desk_resident(accounts, session, resident)
    except DeskRefused as exc:
        errors |= exc.errors
    claims = desk_claims(type_id, form)
    try:
        _check_claims(type_id, claims)
    except DeskRefused as exc:
        errors |= exc.errors
    address_ref = None
    try:
        address_ref = desk_address_ref(type_id, form, address_hasher)
    except DeskRefused as exc:
        for field, key in exc.errors.items():  # the type's own postcode error goes first
            errors.setdefault(field, key)
    if not document_checked:
        errors["document_checked"] = "desk.error.document"
    if errors or account is None:
        raise DeskRefused(errors)
    actor = desk_actor(session, accounts.subject_keys, operator_id)
    if address_ref is not None:
        # first: it takes the vouching graph lock, which is always taken before the audit
        # log's append lock (create_offer appends), never after it; a refused offer below is
        # not committed, and the address with it
        record_address_ref(
            session,
            accounts.subject_keys,
            account_id=account.id,
            address_ref=address_ref,
            source=SOURCE,
            actor=actor,
        )
    try:
        offer = create_offer(
            session,
            accounts.subject_keys,
            waiting_a_day(config),
            account_id=account.id,
            type_id=type_id,
            claims=claims,
            actor=actor,
        )
    except InvalidClaims as exc:
        raise DeskRefused({CLAIMS_FIELD[type_id]: "desk.error.claims." + type_id}) from exc
    return DeskOffer(account, type_id, offer)
