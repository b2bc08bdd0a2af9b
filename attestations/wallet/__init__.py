"""The built-in wallet: credentials Kluis holds for residents without a wallet app, the
approve page that presents them through OpenID4VP, and attested claims for OpenID Connect."""

from attestations.wallet.claims import ATTESTED_CLAIMS, attested_claims
from attestations.wallet.store import (
    HeldCredential,
    HeldSummary,
    discard_held,
    held_credentials,
    issue_to_wallet,
    keep_offer,
    usable_credentials,
)

__all__ = [
    "ATTESTED_CLAIMS",
    "HeldCredential",
    "HeldSummary",
    "attested_claims",
    "discard_held",
    "held_credentials",
    "issue_to_wallet",
    "keep_offer",
    "usable_credentials",
]
