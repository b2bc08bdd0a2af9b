"""Shared plumbing that every Kluis package may use: database base classes, error types,
internationalisation, templates, logging and canonical JSON.

It sits at the bottom of the dependency graph (it imports no other Kluis package), so that
`identity`, `attestations` and `consent` can share it without reaching into `service`, the
composition root they must never import.
"""

from core import csrf, i18n, openapi, untrusted
from core.canonical import canonical_json
from core.db import (
    Base,
    Database,
    UTCDateTime,
    connection_lost,
    error_fields,
    is_sqlite,
    libpq_conninfo,
    lock_named,
    multi_host_url,
    require_transaction,
    rowcount,
    transaction_scoped,
    upsert_insert,
    utcnow,
)
from core.errors import (
    AccessDenied,
    Conflict,
    ConsentRequired,
    InsufficientScope,
    InvalidClient,
    InvalidGrant,
    InvalidInput,
    InvalidRequest,
    InvalidScope,
    InvalidToken,
    LoginRequired,
    NotFound,
    OAuthError,
    Problem,
    ServiceUnavailable,
    TemporarilyUnavailable,
    TooManyRequests,
    UnsupportedGrantType,
    UnsupportedResponseType,
)
from core.files import fsync_path
from core.i18n import register, translate, when
from core.logging import configure_logging, request_id_var
from core.offload import Load, begun, on_event_loop, released
from core.params import AnyJsonBody, FormDep, FormPairsDep, JsonBody, Params, ParamsDep
from core.personal import PERSONAL_FIELDS, personal_data_in
from core.prepared import Prepared, driver_errors, execute_on_driver, no_rows
from core.request_session import autocommit_on_server, database_of, db_session, in_session
from core.tokens import b64url, matches, new_token, token_hash, unb64url
from core.web import SESSION_COOKIE, Templates, check_csrf, page_language, render

__all__ = [
    "PERSONAL_FIELDS",
    "SESSION_COOKIE",
    "AccessDenied",
    "AnyJsonBody",
    "Base",
    "Conflict",
    "ConsentRequired",
    "Database",
    "FormDep",
    "FormPairsDep",
    "InsufficientScope",
    "InvalidClient",
    "InvalidGrant",
    "InvalidInput",
    "InvalidRequest",
    "InvalidScope",
    "InvalidToken",
    "JsonBody",
    "Load",
    "LoginRequired",
    "NotFound",
    "OAuthError",
    "Params",
    "ParamsDep",
    "Prepared",
    "Problem",
    "ServiceUnavailable",
    "Templates",
    "TemporarilyUnavailable",
    "TooManyRequests",
    "UTCDateTime",
    "UnsupportedGrantType",
    "UnsupportedResponseType",
    "autocommit_on_server",
    "b64url",
    "begun",
    "canonical_json",
    "check_csrf",
    "configure_logging",
    "connection_lost",
    "csrf",
    "database_of",
    "db_session",
    "driver_errors",
    "error_fields",
    "execute_on_driver",
    "fsync_path",
    "i18n",
    "in_session",
    "is_sqlite",
    "libpq_conninfo",
    "lock_named",
    "matches",
    "multi_host_url",
    "new_token",
    "no_rows",
    "on_event_loop",
    "openapi",
    "page_language",
    "personal_data_in",
    "register",
    "released",
    "render",
    "request_id_var",
    "require_transaction",
    "rowcount",
    "token_hash",
    "transaction_scoped",
    "translate",
    "unb64url",
    "untrusted",
    "upsert_insert",
    "utcnow",
    "when",
]
