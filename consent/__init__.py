"""Kluis: consent."""

from consent import models
from consent.adopted import adopt_decisions
from consent.ledger import (
    GIVEN,
    POLL_PURPOSE_PREFIX,
    PRESENTATION_PURPOSE_PREFIX,
    ConsentState,
    active_claims,
    clients_with_data,
    consents_of,
    decided_claims,
    latest_decisions_column,
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
    "adopt_decisions",
    "clients_with_data",
    "consents_of",
    "decided_claims",
    "latest_decisions_column",
    "models",
    "poll_purpose",
    "purpose_iri",
    "record_decision",
    "record_document",
    "withdraw_consent",
]
