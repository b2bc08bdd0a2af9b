"""Resident accounts: registration, e-mail verification, password login, browser sessions,
password reset and desk activation.

Other packages use these names; everything else in the package is internal.
"""

from identity.accounts.models import Account, AccountStatus
from identity.accounts.service import Accounts, account_claims, get_account
from identity.accounts.sessions import (
    SESSION_COOKIE,
    BrowserSession,
    current_session,
    end_browser_session,
)

__all__ = [
    "SESSION_COOKIE",
    "Account",
    "AccountStatus",
    "Accounts",
    "BrowserSession",
    "account_claims",
    "current_session",
    "end_browser_session",
    "get_account",
]
