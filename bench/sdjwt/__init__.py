"""SD-JWT benchmark: Kluis's attestations.sdjwt and the reference sd-jwt package, side by side."""
