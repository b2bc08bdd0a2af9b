"""Errors of the accounts package. Each carries a message key (`core.i18n`) that the pages
show; none carries personal data."""

from __future__ import annotations


class AccountError(Exception):
    message_key = "accounts.error.generic"
    field: str | None = None

    def __init__(self, message_key: str | None = None, *, field: str | None = None) -> None:
        super().__init__(message_key or self.message_key)
        if message_key:
            self.message_key = message_key
        if field:
            self.field = field


class InvalidEmail(AccountError):
    message_key = "accounts.error.email_invalid"
    field = "email"


class PasswordRejected(AccountError):
    """The new password does not meet the policy (`passwords.check_policy`)."""

    field = "password"


class InvalidCredentials(AccountError):
    """Login failed. Deliberately one error for "no such account", "wrong password" and
    "account not usable", so the answer reveals nothing."""

    message_key = "accounts.error.credentials"


class EmailNotVerified(AccountError):
    """Correct password, but the address was never confirmed; a new link was sent."""

    message_key = "accounts.error.email_unverified"


class LoginThrottled(AccountError):
    message_key = "accounts.error.throttled"

    def __init__(self, retry_after: int) -> None:
        super().__init__()
        self.retry_after = retry_after


class WrongPassword(AccountError):
    """The password typed to confirm an irreversible action is not the account's."""

    message_key = "accounts.error.reconfirm_password"
    field = "password"


class PasswordMissing(AccountError):
    """No password was typed to confirm an irreversible action: asked for, not counted."""

    message_key = "accounts.error.reconfirm_missing"
    field = "password"


class FreshLoginRequired(AccountError):
    """An account without a password confirms an irreversible action by a recent login."""

    message_key = "accounts.error.fresh_login"


class InvalidToken(AccountError):
    """The link or code is unknown, expired or already used (we do not say which)."""

    message_key = "accounts.error.token"


class InvalidActivationCode(InvalidToken):
    message_key = "accounts.error.activation_code"
    field = "code"


class WalletLoginGone(AccountError):
    """The login by QR is unknown, was started in another browser, has expired, was
    cancelled or was already used (we do not say which)."""

    message_key = "accounts.wallet.error.gone"


class WalletLoginPending(AccountError):
    """No wallet has answered yet."""

    message_key = "accounts.wallet.error.pending"


class WalletLoginRefused(AccountError):
    """The wallet answered, but its credential logs no one in (revoked, expired, erased
    account, disabled account)."""

    message_key = "accounts.wallet.error.refused"


class PersonHasAnotherAccount(AccountError):
    """The person who just proved who they are at the municipality already has another
    account here (one account per person). Says nothing about which account that is."""

    message_key = "accounts.error.person_has_account"


class AccountOfAnotherPerson(AccountError):
    """This account was linked to someone else: a resident cannot move their account to
    another person's identity."""

    message_key = "accounts.error.account_of_another_person"
