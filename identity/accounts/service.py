"""Resident accounts: the dependencies bundle (`Accounts`), lookup, claims, self-service
registration and e-mail verification.

Personal data (e-mail address, name) is encrypted under the resident's own data key; the
address is found again through a keyed blind index. Nothing here logs or audits personal
data: audit entries name the resident by `SubjectKeys.reference`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import re
import secrets
import uuid
from collections.abc import Callable
from typing import Protocol
from urllib.parse import urlencode

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from adapters import Mailer
from audit import record
from core import Prepared, transaction_scoped, utcnow
from identity.accounts import mails, tokens
from identity.accounts.errors import InvalidEmail, InvalidToken
from identity.accounts.models import Account, AccountStatus, TokenPurpose
from identity.accounts.passwords import Passwords, check_policy
from identity.accounts.ratelimit import LoginLimiter, LoginLimits
from keys import SubjectKeys, derive_key

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_EMAIL_LENGTH = 254  # RFC 5321 path limit
MAX_NAME_LENGTH = 100
HANDLE_PREFIX = "bewoner-"
HANDLE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
HANDLE_PATTERN = re.compile(rf"^{HANDLE_PREFIX}[{HANDLE_ALPHABET}]{{6}}$")

VERIFY_TTL = dt.timedelta(days=2)
RESET_TTL = dt.timedelta(minutes=30)
ACTIVATION_TTL = dt.timedelta(days=14)
# at most one mailed link per account and purpose in this time, however often someone asks
MAIL_COOLDOWN = dt.timedelta(minutes=5)


class AccountSettings(Protocol):
    """What the accounts package reads from the service settings."""

    @property
    def issuer(self) -> str: ...
    @property
    def session_ttl(self) -> int: ...
    @property
    def login_max_failures(self) -> int: ...
    @property
    def login_max_failures_per_ip(self) -> int: ...
    @property
    def login_failure_window(self) -> int: ...
    @property
    def wallet_login_max_starts_per_ip(self) -> int: ...
    @property
    def secret_bytes(self) -> bytes: ...


@dataclasses.dataclass(frozen=True)
class Accounts:
    """Everything the account functions need, built once by the composition root."""

    subject_keys: SubjectKeys
    mailer: Mailer
    passwords: Passwords
    limiter: LoginLimiter
    index_key: bytes
    issuer: str
    session_ttl: dt.timedelta
    verify_ttl: dt.timedelta = VERIFY_TTL
    reset_ttl: dt.timedelta = RESET_TTL
    activation_ttl: dt.timedelta = ACTIVATION_TTL
    mail_cooldown: dt.timedelta = MAIL_COOLDOWN
    # Called when a browser session ends here (local logout, password reset):
    # (session, public sid, account id). The OpenID provider revokes grants and notifies
    # platforms through it; accounts never imports the provider.
    session_end_hooks: tuple[Callable[[Session, str, str], None], ...] = ()

    @classmethod
    def from_settings(
        cls,
        settings: AccountSettings,
        subject_keys: SubjectKeys,
        mailer: Mailer,
        *,
        passwords: Passwords | None = None,
    ) -> Accounts:
        secret = settings.secret_bytes
        limits = LoginLimits(
            per_account=settings.login_max_failures,
            per_ip=settings.login_max_failures_per_ip,
            window=dt.timedelta(seconds=settings.login_failure_window),
            wallet_starts_per_ip=settings.wallet_login_max_starts_per_ip,
        )
        return cls(
            subject_keys=subject_keys,
            mailer=mailer,
            passwords=passwords or Passwords(),
            limiter=LoginLimiter(derive_key(secret, "kluis/identity/login-throttle"), limits),
            index_key=derive_key(secret, "kluis/identity/email-index"),
            issuer=settings.issuer,
            session_ttl=dt.timedelta(seconds=settings.session_ttl),
        )

    @property
    def secure_cookies(self) -> bool:
        return self.issuer.startswith("https://")

    def email_index(self, email: str) -> str:
        """The blind index of a normalised address (HMAC-SHA256, hex)."""
        return hmac.new(self.index_key, email.encode("utf-8"), hashlib.sha256).hexdigest()

    def recently_mailed(self, session: Session, account_id: str, purpose: TokenPurpose) -> bool:
        since = utcnow() - self.mail_cooldown
        return tokens.issued_since(session, account_id, purpose, since)

    def subject_ref(self, session: Session, account_id: str) -> str:
        return self.subject_keys.reference(session, account_id)

    def link(self, path: str, token: str, return_to: str | None = None) -> str:
        query = {"token": token}
        if return_to and return_to != "/":
            query["return_to"] = return_to
        return f"{self.issuer}{path}?{urlencode(query)}"


def normalize_email(value: str) -> str:
    email = value.strip().lower()
    if len(email) > MAX_EMAIL_LENGTH or not EMAIL_PATTERN.match(email):
        raise InvalidEmail()
    return email


def normalize_name(value: str | None) -> str | None:
    name = " ".join((value or "").split())
    return name[:MAX_NAME_LENGTH] or None


# built once (session.get builds its statement on every call): every ID token and UserInfo
# response with account claims reads the account
_ACCOUNT = select(Account).where(Account.id == bindparam("account_id"))


def get_account(session: Session, account_id: str) -> Account | None:
    return session.execute(_ACCOUNT, {"account_id": account_id}).scalar_one_or_none()


_ACCOUNT_SNAPSHOT = Prepared(_ACCOUNT)


_ADOPTED = "kluis.accounts.snapshots"  # account id -> snapshot or None, per transaction


def read_account(session: Session, account_id: str) -> Account | None:
    """The account as `get_account` reads it, for reading only: a snapshot no session knows
    (`core.Prepared`), so changing it saves nothing. For the claims of every ID token and
    UserInfo response. An account handed to `adopt_account` in this transaction is not read
    again."""
    held = transaction_scoped(session, _ADOPTED)
    if account_id in held:
        return held[account_id]  # type: ignore[no-any-return]
    row = _ACCOUNT_SNAPSHOT.first(session, {"account_id": account_id})
    return None if row is None else row[0]


def adopt_account(session: Session, account_id: str, account: Account | None) -> None:
    """A snapshot of the account (`core.Prepared`; None, as an outer join that found none
    gives it: there is none) that the caller read with another statement of the current
    transaction, before it wrote anything (one round trip less): `read_account` returns it
    for the rest of the transaction. Only for transactions that do not change the account
    afterwards. Another account's snapshot is not held."""
    if account is None or account.id == account_id:
        transaction_scoped(session, _ADOPTED)[account_id] = account


def find_by_email(accounts: Accounts, session: Session, email: str) -> Account | None:
    return session.scalar(select(Account).where(Account.email_index == accounts.email_index(email)))


def find_by_identifier(accounts: Accounts, session: Session, identifier: str) -> Account | None:
    """The account a login identifier (normalised e-mail address or handle) names."""
    if HANDLE_PATTERN.match(identifier):
        return session.scalar(select(Account).where(Account.handle == identifier))
    if not EMAIL_PATTERN.match(identifier):
        return None
    return find_by_email(accounts, session, identifier)


def account_email(session: Session, subject_keys: SubjectKeys, account: Account) -> str | None:
    if account.email_enc is None:
        return None
    return subject_keys.decrypt(session, account.id, "email", account.email_enc)


def account_claims(
    session: Session, subject_keys: SubjectKeys, account: Account
) -> dict[str, object]:
    """OpenID Connect standard claims of the account (OIDC Core §5.1). The caller filters
    them by consent; `email`/`email_verified` are absent when the account has no address."""
    claims: dict[str, object] = {}
    email = account_email(session, subject_keys, account)
    if email is not None:
        claims["email"] = email
        claims["email_verified"] = account.email_verified
    name = (
        subject_keys.decrypt(session, account.id, "name", account.name_enc)
        if account.name_enc is not None
        else None
    )
    if name:
        claims["name"] = name
    # the Kluis user name, never the real name: each claim comes from one consented field
    # (identity.oidc.claims.field_of), and the name is the field `name`; a platform gets a
    # user name of its sector in its place (`identity.oidc.pairwise.SubjectIds.username_for`)
    claims["preferred_username"] = account.handle
    return claims


def list_accounts(session: Session) -> list[Account]:
    return list(session.scalars(select(Account).order_by(Account.created_at, Account.id)))


def _new_handle(session: Session) -> str:
    while True:
        handle = HANDLE_PREFIX + "".join(secrets.choice(HANDLE_ALPHABET) for _ in range(6))
        if session.scalar(select(Account.id).where(Account.handle == handle)) is None:
            return handle


def create_account(
    accounts: Accounts,
    session: Session,
    *,
    email: str | None,
    name: str | None,
    password_hash: str | None,
    status: AccountStatus,
    email_verified: bool,
) -> Account:
    """Insert an account with its own data key; `IntegrityError` if the address is taken
    concurrently (inside a savepoint, so the caller's transaction survives)."""
    account_id = uuid.uuid4().hex
    keys = accounts.subject_keys
    with session.begin_nested():
        keys.create(session, account_id)
        account = Account(
            id=account_id,
            email_index=accounts.email_index(email) if email else None,
            email_enc=keys.encrypt(session, account_id, "email", email) if email else None,
            name_enc=keys.encrypt(session, account_id, "name", name) if name else None,
            handle=_new_handle(session),
            email_verified=email_verified,
            password_hash=password_hash,
            status=status.value,
            created_at=utcnow(),
        )
        session.add(account)
        session.flush()
    return account


def register_account(
    accounts: Accounts,
    session: Session,
    *,
    email: str,
    password: str,
    name: str | None,
    lang: str,
    return_to: str | None = None,
) -> None:
    """Self-service registration. The outcome looks the same whether or not the address
    already has an account: the owner of an existing one gets a warning mail instead of a
    verification link. Mail is sent inside the transaction, so a failed send changes nothing
    and the resident can simply try again."""
    email = normalize_email(email)
    check_policy(password, email=email)
    password_hash = accounts.passwords.hash(password)  # also for existing: same time taken
    account, created = _create_unless_taken(accounts, session, email, name, password_hash)
    ref = accounts.subject_ref(session, account.id)
    if not created:
        record(session, "account.registration_repeated", "resident", ref)
        mails.send_already_registered(accounts.mailer, email, accounts.issuer, lang)
        return
    record(session, "account.registered", "resident", ref, {"channel": "self_service"})
    send_verification(accounts, session, account, email, lang, return_to)


def _create_unless_taken(
    accounts: Accounts, session: Session, email: str, name: str | None, password_hash: str
) -> tuple[Account, bool]:
    """(the new account, True), or (the account that has the address already, False), also
    when it was registered by a concurrent request a moment ago."""
    existing = find_by_email(accounts, session, email)
    if existing is not None:
        return existing, False
    try:
        account = create_account(
            accounts,
            session,
            email=email,
            name=normalize_name(name),
            password_hash=password_hash,
            status=AccountStatus.ACTIVE,
            email_verified=False,
        )
    except IntegrityError:
        existing = find_by_email(accounts, session, email)
        if existing is None:
            raise
        return existing, False
    return account, True


def send_verification(
    accounts: Accounts,
    session: Session,
    account: Account,
    email: str,
    lang: str,
    return_to: str | None = None,
) -> None:
    """Mail a fresh verification link (voiding earlier ones); `return_to` (a safe local
    path) brings the resident back to where they started after confirming."""
    token = tokens.issue(session, account.id, TokenPurpose.VERIFY_EMAIL, accounts.verify_ttl)
    link = accounts.link("/verify-email", token, return_to)
    mails.send_verification(accounts.mailer, email, link, lang)


def resend_verification(
    accounts: Accounts, session: Session, email: str, lang: str, return_to: str | None = None
) -> None:
    """ "Nothing arrived?": mail a new link if an account waits for `email` to be confirmed
    and none went out within the mail cooldown. The caller answers the same either way, so
    the page reveals nothing about which addresses have accounts."""
    account = find_by_email(accounts, session, normalize_email(email))
    if account is None or account.email_verified or account.status == AccountStatus.DISABLED:
        return
    if accounts.recently_mailed(session, account.id, TokenPurpose.VERIFY_EMAIL):
        return
    address = account_email(session, accounts.subject_keys, account)
    if address is not None:
        send_verification(accounts, session, account, address, lang, return_to)


def verify_email(accounts: Accounts, session: Session, token: str) -> Account:
    """Confirm the address the link was sent to. `InvalidToken` if unknown, used or old."""
    account_id = tokens.consume(session, TokenPurpose.VERIFY_EMAIL, token)
    account = get_account(session, account_id)
    if account is None or account.status == AccountStatus.DISABLED:
        raise InvalidToken()
    account.email_verified = True
    ref = accounts.subject_ref(session, account.id)
    record(session, "account.email_verified", "resident", ref, {"via": "link"})
    session.flush()
    return account
