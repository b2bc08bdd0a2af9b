"""Peer vouching (issue 10): residents confirm, in person, that a neighbour really is who they
say; enough independent confirmations give a `real_person` attestation with
`verification: peer`. Rules in `rules`, acts in `acts`, peer attestations in `grants`, the
cascade in `cascade`, reports and seed vouchers in `reports`."""

from attestations.vouching import models
from attestations.vouching.acts import (
    Preview,
    Progress,
    confirm,
    decline,
    preview,
    progress,
    request_state,
)
from attestations.vouching.cascade import (
    CascadeOutcome,
    ClaimsChange,
    ClaimsListener,
    Lapse,
    forget_account,
    settle,
    unmask,
)
from attestations.vouching.config import VouchingConfig, vouching_config
from attestations.vouching.errors import (
    AlreadyVerified,
    ConfirmationRefused,
    ReportNotFound,
    ReportRefused,
    RequestGone,
    ThresholdNotMet,
    VouchingRefused,
)
from attestations.vouching.grants import GRAPH_LOCK, PeerOffer, issue_peer_attestation
from attestations.vouching.reports import (
    Decision,
    appoint_seed,
    decide,
    is_seed,
    remove_seed,
    report_fake,
    seed_accounts,
)
from attestations.vouching.requests import OpenedRequest, open_request
from attestations.vouching.rules import Refusal, VouchingRules

__all__ = [
    "GRAPH_LOCK",
    "AlreadyVerified",
    "CascadeOutcome",
    "ClaimsChange",
    "ClaimsListener",
    "ConfirmationRefused",
    "Decision",
    "Lapse",
    "OpenedRequest",
    "PeerOffer",
    "Preview",
    "Progress",
    "Refusal",
    "ReportNotFound",
    "ReportRefused",
    "RequestGone",
    "ThresholdNotMet",
    "VouchingConfig",
    "VouchingRefused",
    "VouchingRules",
    "appoint_seed",
    "confirm",
    "decide",
    "decline",
    "forget_account",
    "is_seed",
    "issue_peer_attestation",
    "models",
    "open_request",
    "preview",
    "progress",
    "remove_seed",
    "report_fake",
    "request_state",
    "seed_accounts",
    "settle",
    "unmask",
    "vouching_config",
]
