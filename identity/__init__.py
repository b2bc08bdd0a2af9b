"""Kluis: identity."""

from identity.accounts import models as accounts_models
from identity.accounts.cli import accounts_cli
from identity.accounts.desk import DeskAccount, DeskInputError, create_desk_account
from identity.accounts.errors import (
    AccountError,
    AccountOfAnotherPerson,
    LoginThrottled,
    PersonHasAnotherAccount,
    WalletLoginGone,
    WalletLoginPending,
    WalletLoginRefused,
)
from identity.accounts.login import end_previous_session, reconfirm, safe_return_to
from identity.accounts.lookup import AccountState, account_state, find_account_exactly
from identity.accounts.models import Account, AccountStatus
from identity.accounts.operator import (
    NotAnOperator,
    confirm_again,
    console_page,
    operator_actor,
    page_operator,
    reconfirm_context,
    reconfirm_errors,
)
from identity.accounts.person import PERSON_KEY_PURPOSE, link_person
from identity.accounts.profile import own_profile
from identity.accounts.ratelimit import LoginLimiter, LoginLimits
from identity.accounts.roles import (
    DESK,
    OPERATOR_ROLE,
    ROLES,
    STEWARD,
    grant_role,
    has_role,
    revoke_role,
)
from identity.accounts.service import (
    Accounts,
    account_claims,
    account_email,
    find_by_email,
    find_by_identifier,
    get_account,
    normalize_email,
    read_account,
)
from identity.accounts.sessions import (
    ACR_ATTESTED,
    AMR_WALLET,
    SESSION_COOKIE,
    BrowserSession,
    clear_session_cookie,
    current_session,
    end_account_sessions,
    set_session_cookie,
    start_browser_session,
)
from identity.accounts.web import (
    AccountsDep,
    FormStr,
    SessionDep,
    client_ip,
    errors_of,
    get_accounts,
    message_page,
    reconfirmed,
    see_other,
)
from identity.oidc import messages
from identity.oidc import models as oidc_models
from identity.oidc.account_status import (
    ACCOUNT_STATUS_COMMANDS,
    disable_account,
    enable_account,
)
from identity.oidc.authorize import STEWARD_SCOPE
from identity.oidc.claims import ClaimRegistry, claims_of_field
from identity.oidc.cli import clients_cli
from identity.oidc.client_auth import authenticate_client
from identity.oidc.clients import get_client
from identity.oidc.grants import GrantRegistry, GrantType
from identity.oidc.logout import (
    DELIVERY_KIND,
    end_session,
    enqueue_backchannel_logout,
    render_logout_token,
)
from identity.oidc.models import AuthorizationRequest, Client, Grant
from identity.oidc.pairwise import SubjectIds
from identity.oidc.platform_settings import platform_settings
from identity.oidc.presets import PRESETS, Preset, get_preset, preset_spec
from identity.oidc.provider import OidcConfig, Provider, provider_of
from identity.oidc.pseudonyms import (
    poll_pseudonym,
    poll_pseudonym_key,
    resident_poll_pseudonym,
    valid_poll_id,
)
from identity.oidc.signing_keys import keys_rotate_cli, rotate_signing_key
from identity.oidc.tokens import CLIENT_GRANTS, active_token, revoke_grant
from identity.routers import OAUTH_PATHS, PROTOCOL_ROUTERS, ROUTERS

__all__ = [
    "ACCOUNT_STATUS_COMMANDS",
    "ACR_ATTESTED",
    "AMR_WALLET",
    "CLIENT_GRANTS",
    "DELIVERY_KIND",
    "DESK",
    "OAUTH_PATHS",
    "OPERATOR_ROLE",
    "PERSON_KEY_PURPOSE",
    "PRESETS",
    "PROTOCOL_ROUTERS",
    "ROLES",
    "ROUTERS",
    "SESSION_COOKIE",
    "STEWARD",
    "STEWARD_SCOPE",
    "Account",
    "AccountError",
    "AccountOfAnotherPerson",
    "AccountState",
    "AccountStatus",
    "Accounts",
    "AccountsDep",
    "AuthorizationRequest",
    "BrowserSession",
    "ClaimRegistry",
    "Client",
    "DeskAccount",
    "DeskInputError",
    "FormStr",
    "Grant",
    "GrantRegistry",
    "GrantType",
    "LoginLimiter",
    "LoginLimits",
    "LoginThrottled",
    "NotAnOperator",
    "OidcConfig",
    "PersonHasAnotherAccount",
    "Preset",
    "Provider",
    "SessionDep",
    "SubjectIds",
    "WalletLoginGone",
    "WalletLoginPending",
    "WalletLoginRefused",
    "account_claims",
    "account_email",
    "account_state",
    "accounts_cli",
    "accounts_models",
    "active_token",
    "authenticate_client",
    "claims_of_field",
    "clear_session_cookie",
    "client_ip",
    "clients_cli",
    "confirm_again",
    "console_page",
    "create_desk_account",
    "current_session",
    "disable_account",
    "enable_account",
    "end_account_sessions",
    "end_previous_session",
    "end_session",
    "enqueue_backchannel_logout",
    "errors_of",
    "find_account_exactly",
    "find_by_email",
    "find_by_identifier",
    "get_account",
    "get_accounts",
    "get_client",
    "get_preset",
    "grant_role",
    "has_role",
    "keys_rotate_cli",
    "link_person",
    "message_page",
    "messages",
    "normalize_email",
    "oidc_models",
    "operator_actor",
    "own_profile",
    "page_operator",
    "platform_settings",
    "poll_pseudonym",
    "poll_pseudonym_key",
    "preset_spec",
    "provider_of",
    "read_account",
    "reconfirm",
    "reconfirm_context",
    "reconfirm_errors",
    "reconfirmed",
    "render_logout_token",
    "resident_poll_pseudonym",
    "revoke_grant",
    "revoke_role",
    "rotate_signing_key",
    "safe_return_to",
    "see_other",
    "set_session_cookie",
    "start_browser_session",
    "valid_poll_id",
]
