"""Kluis: consent."""

from consent import models
from consent.adopted import adopt_active_claims
from consent.ledger import (
    GIVEN,
    POLL_PURPOSE_PREFIX,
    PRESENTATION_PURPOSE_PREFIX,
    ConsentState,
    active_claims,
    active_claims_column,
    clients_with_data,
    consents_of,
    decided_claims,
    poll_purpose,
    purpose_iri,
    record_decision,
    record_document,
    withdraw_consent,
)
from consent.models import ConsentEvent, ConsentRecord

__all__ = [
    "GIVEN",
    "POLL_PURPOSE_PREFIX",
    "PRESENTATION_PURPOSE_PREFIX",
    "ConsentEvent",
    "ConsentRecord",
    "ConsentState",
    "active_claims",
    "active_claims_column",
    "adopt_active_claims",
    "clients_with_data",
    "consents_of",
    "decided_claims",
    "models",
    "poll_purpose",
    "purpose_iri",
    "record_decision",
    "record_document",
    "withdraw_consent",
]
