"""The package's routers, in the order the app includes them, and the paths that answer
with OAuth errors (RFC 6749 §5.2) rather than problem details."""

from __future__ import annotations

from identity.accounts import routes as accounts
from identity.accounts import routes_recovery as recovery
from identity.oidc import (
    routes_authorize,
    routes_console_keys,
    routes_console_platform_edit,
    routes_console_platforms,
    routes_logout,
    routes_register,
    routes_token,
)

# the endpoints platforms call (discovery and registration, authorize, token, UserInfo)
PROTOCOL_ROUTERS = (routes_register.router, routes_authorize.router, routes_token.router)
ROUTERS = (
    *PROTOCOL_ROUTERS,
    routes_logout.router,
    accounts.router,
    recovery.router,
    routes_console_platform_edit.router,  # before the platforms' /{client_id}/{action}
    routes_console_platforms.router,
    routes_console_keys.router,
)
OAUTH_PATHS = frozenset(routes_token.OAUTH_PATHS | routes_register.OAUTH_PATHS)
