"""The package's routers, in the order the app includes them."""

from __future__ import annotations

from keys.routes import router

ROUTERS = (router,)
