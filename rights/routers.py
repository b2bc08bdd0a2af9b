"""The package's routers, in the order the app includes them."""

from __future__ import annotations

from rights import (
    routes_account,
    routes_consents,
    routes_console_erasure,
    routes_erasure,
    routes_steward,
    routes_steward_pages,
    routes_steward_vouching,
)

ROUTERS = (
    routes_account.router,
    routes_consents.router,
    routes_erasure.router,
    routes_steward.router,
    routes_steward_pages.router,
    routes_steward_vouching.router,
    routes_console_erasure.router,
)
