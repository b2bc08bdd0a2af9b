"""Roles operators grant to accounts: `steward` (a data steward: reads the audit log and the
erasure and consent overviews, which hold no personal data) and `desk` (an operator at the
municipal desk or a community host: issues proofs after checking an ID document in person)
and `operator` (runs the service from the web console: platforms, the outbox, erasure).

Granting and revoking are audited in the same transaction. Whether an account holds a role is
asked through `has_role` alone, so every access check reads the database afresh: revoking the
role ends a steward's access at once, also for access tokens issued before.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from audit import record
from core import rowcount, utcnow
from identity.accounts.models import Account, AccountRole, AccountStatus
from keys import SubjectKeys

STEWARD = "steward"
DESK = "desk"  # an operator at the municipal desk or a community host (attestations.desk)
OPERATOR_ROLE = "operator"  # runs the service from the console at /console (platforms, outbox)
ROLES = (STEWARD, DESK, OPERATOR_ROLE)


class UnknownRole(ValueError):
    def __init__(self) -> None:
        super().__init__(f"role must be one of: {', '.join(ROLES)}")


def has_role(session: Session, account_id: str | None, role: str) -> bool:
    """True only for an existing, active account that holds `role`."""
    if not account_id or role not in ROLES:
        return False
    found = session.execute(
        select(Account.status)
        .join(AccountRole, AccountRole.account_id == Account.id)
        .where(Account.id == account_id, AccountRole.role == role)
    ).first()
    return found is not None and found.status == AccountStatus.ACTIVE.value


def grant_role(
    session: Session, subject_keys: SubjectKeys, account_id: str, role: str, actor: str
) -> bool:
    """Give `role` to the account; False when it already had it."""
    if role not in ROLES:
        raise UnknownRole()
    if session.get(AccountRole, (account_id, role)) is not None:
        return False
    session.add(
        AccountRole(account_id=account_id, role=role, granted_at=utcnow(), granted_by=actor)
    )
    session.flush()
    ref = subject_keys.reference(session, account_id)
    record(session, "account.role_granted", actor, ref, {"role": role})
    return True


def revoke_role(
    session: Session, subject_keys: SubjectKeys, account_id: str, role: str, actor: str
) -> bool:
    """Take `role` away; False when the account did not have it."""
    if role not in ROLES:
        raise UnknownRole()
    removed = rowcount(
        session.execute(
            delete(AccountRole).where(
                AccountRole.account_id == account_id, AccountRole.role == role
            )
        )
    )
    if not removed:
        return False
    ref = subject_keys.reference(session, account_id)
    record(session, "account.role_revoked", actor, ref, {"role": role})
    return True


def accounts_with_role(session: Session, role: str) -> list[AccountRole]:
    return list(
        session.scalars(
            select(AccountRole).where(AccountRole.role == role).order_by(AccountRole.granted_at)
        )
    )
