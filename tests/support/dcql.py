"""DCQL queries the verifier tests ask with (OpenID4VP 1.0 §6)."""

from __future__ import annotations

from typing import Any


def postcode_query(issuer: str) -> dict[str, Any]:
    """One SD-JWT VC of `issuer`'s postcode type, disclosing only `postcode_area`."""
    return {
        "credentials": [
            {
                "id": "residence",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": [f"{issuer}/vct/postcode"]},
                "claims": [{"path": ["postcode_area"]}],
            }
        ]
    }
