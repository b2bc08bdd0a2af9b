"""The package's routers, in the order the app includes them, and the paths that answer
with OAuth errors (OpenID4VCI and OpenID4VP use them) rather than problem details."""

from __future__ import annotations

from attestations import routes as issuer
from attestations import routes_console_accounts as console_accounts
from attestations import routes_console_attestations as console_attestations
from attestations import routes_desk as desk
from attestations import routes_municipality as municipality
from attestations import routes_vouching as vouchee
from attestations import routes_vouching_voucher as voucher
from attestations.letters import routes as letters
from attestations.verifier import routes as verifier
from attestations.verifier import routes_login as qr_login
from attestations.verifier import routes_widget as widget
from attestations.wallet import routes as wallet

# The app tries routers in order, every route of each (FastAPI's router matching is a large
# share of a verification's server CPU): the verifier's platform and wallet endpoints, the
# busiest, go first, right after OpenID Connect's (`service.app`). No path of the routers they
# precede starts with /verifier/.
PROTOCOL_ROUTERS = (verifier.router,)
ROUTERS = (
    *PROTOCOL_ROUTERS,
    qr_login.router,
    issuer.router,
    desk.router,
    municipality.router,
    letters.router,
    vouchee.router,
    voucher.router,
    widget.router,
    wallet.router,
    console_attestations.router,
    console_accounts.router,
)
OAUTH_PATHS = frozenset(issuer.OAUTH_PATHS | verifier.OAUTH_PATHS)
