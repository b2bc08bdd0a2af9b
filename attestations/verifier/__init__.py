"""Kluis: the verifier — OpenID4VP 1.0 verification sessions for platforms (DCQL queries,
request objects by reference, `direct_post` responses) with results signed by Kluis."""

from attestations.verifier.config import VerifierConfig
from attestations.verifier.dcql import DcqlQuery, NoMatch, parse_query, requested_claims
from attestations.verifier.errors import InvalidDcqlQuery, PresentationRejected, SessionNotFound
from attestations.verifier.models import VerifierSession
from attestations.verifier.response import receive_response
from attestations.verifier.session import (
    cancel_session,
    create_session,
    effective_status,
    session_for_client,
    status_body,
)
from identity import poll_pseudonym

__all__ = [
    "DcqlQuery",
    "InvalidDcqlQuery",
    "NoMatch",
    "PresentationRejected",
    "SessionNotFound",
    "VerifierConfig",
    "VerifierSession",
    "cancel_session",
    "create_session",
    "effective_status",
    "parse_query",
    "poll_pseudonym",
    "receive_response",
    "requested_claims",
    "session_for_client",
    "status_body",
]
