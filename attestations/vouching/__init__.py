"""Peer vouching (issue 10): residents confirm, in person, that a neighbour really is who they
say; enough independent confirmations give a `real_person` attestation with
`verification: peer`. Rules in `rules`, acts in `acts`, peer attestations in `grants`, the
cascade in `cascade`, the periodic settle (in batches) in `settling`, reports and seed vouchers
in `reports`; what stewards read in `listing` and the graph's warning signs in `overview`; the
shared-address rule's keyed addresses in `addresses`."""

from attestations.vouching import models
from attestations.vouching.acts import (
    Lapsed,
    Preview,
    Progress,
    confirm,
    decline,
    last_lapse,
    preview,
    progress,
    request_state,
)
from attestations.vouching.addresses import forget_address, record_address, record_address_ref
from attestations.vouching.cascade import (
    CascadeOutcome,
    ClaimsChange,
    ClaimsListener,
    Lapse,
    forget_account,
    unmask,
)
from attestations.vouching.config import AddressHasher, VouchingConfig, vouching_config
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
from attestations.vouching.listing import (
    GraphSummary,
    ReportLine,
    graph_rows,
    graph_summary,
    open_report,
    open_reports,
)
from attestations.vouching.notices import LapseNotice, lapse_notices
from attestations.vouching.overview import (
    Cluster,
    GraphRows,
    Newcomer,
    QuotaUse,
    Thresholds,
    WarningSigns,
    accounts_named,
    warning_signs,
)
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
from attestations.vouching.settling import settle

__all__ = [
    "GRAPH_LOCK",
    "AddressHasher",
    "AlreadyVerified",
    "CascadeOutcome",
    "ClaimsChange",
    "ClaimsListener",
    "Cluster",
    "ConfirmationRefused",
    "Decision",
    "GraphRows",
    "GraphSummary",
    "Lapse",
    "LapseNotice",
    "Lapsed",
    "Newcomer",
    "OpenedRequest",
    "PeerOffer",
    "Preview",
    "Progress",
    "QuotaUse",
    "Refusal",
    "ReportLine",
    "ReportNotFound",
    "ReportRefused",
    "RequestGone",
    "ThresholdNotMet",
    "Thresholds",
    "VouchingConfig",
    "VouchingRefused",
    "VouchingRules",
    "WarningSigns",
    "accounts_named",
    "appoint_seed",
    "confirm",
    "decide",
    "decline",
    "forget_account",
    "forget_address",
    "graph_rows",
    "graph_summary",
    "is_seed",
    "issue_peer_attestation",
    "lapse_notices",
    "last_lapse",
    "models",
    "open_report",
    "open_reports",
    "open_request",
    "preview",
    "progress",
    "record_address",
    "record_address_ref",
    "remove_seed",
    "report_fake",
    "request_state",
    "seed_accounts",
    "settle",
    "unmask",
    "vouching_config",
    "warning_signs",
]
