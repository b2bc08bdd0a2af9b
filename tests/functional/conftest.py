"""Fixtures shared across the functional packages: the attestation fixtures (an account, its
offers, an in-process wallet) are also used by the cross-cutting fuzz test."""

from tests.functional.attestations.conftest import account, make_offer, wallet

__all__ = ["account", "make_offer", "wallet"]
