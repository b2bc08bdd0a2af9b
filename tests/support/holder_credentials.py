"""A stored credential made with the SD-JWT library directly (no server)."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import ec

from attestations.sdjwt import issue_sd_jwt, public_jwk
from attestations.wallet.holder_store import StoredCredential

ISSUER = "https://kluis.example.nl"


def stored_postcode() -> StoredCredential:
    issuer_key = ec.generate_private_key(ec.SECP256R1())
    holder = ec.generate_private_key(ec.SECP256R1())
    issued = issue_sd_jwt(
        {
            "iss": ISSUER,
            "vct": f"{ISSUER}/vct/postcode",
            "postcode": "1087AB",
            "postcode_area": "1087",
        },
        issuer_key=issuer_key,
        disclosable=(("postcode",), ("postcode_area",)),
        alg="ES256",
        typ="dc+sd-jwt",
        holder_key=dict(public_jwk(holder.public_key())),
    )
    return StoredCredential.new(ISSUER, issued.serialize(), holder, 0)
