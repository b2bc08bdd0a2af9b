"""Why a vouching action was refused. Each is an RFC 9457 problem and names a message key for
the resident's page (step 2); none says more than the one acting may know."""

from __future__ import annotations

from typing import ClassVar

from core import Conflict, NotFound, Problem


class VouchingRefused(Problem):
    """Base of the refusals; `message_key` is the resident's wording."""

    slug = "vouching-refused"
    title = "This cannot be done now"
    message_key: ClassVar[str] = "vouching.error.refused"


class RequestGone(VouchingRefused, NotFound):
    """Unknown, expired, or already answered: one answer for all three."""

    slug = "vouching-request-gone"
    title = "This confirmation request does not exist or is no longer valid"
    message_key = "vouching.error.request_gone"


class ConfirmationRefused(VouchingRefused, Conflict):
    """The voucher may not confirm now; `reason` is a `rules.Refusal` code."""

    slug = "vouching-confirmation-refused"
    title = "You cannot confirm this person now"
    message_key = "vouching.error.confirmation_refused"

    def __init__(self, reason: str) -> None:
        super().__init__(f"refused: {reason}", reason=reason)
        self.reason = reason


class ThresholdNotMet(VouchingRefused, Conflict):
    slug = "vouching-threshold-not-met"
    title = "Not enough independent confirmations yet"
    message_key = "vouching.error.threshold"


class AlreadyVerified(VouchingRefused, Conflict):
    slug = "vouching-already-verified"
    title = "A real-person proof is already valid for a long time"
    message_key = "vouching.error.already_verified"


class ReportRefused(VouchingRefused, Conflict):
    slug = "vouching-report-refused"
    title = "This report cannot be made"
    message_key = "vouching.error.report"


class ReportNotFound(VouchingRefused, NotFound):
    """Unknown, already decided, or the one asking is not a steward: the same answer."""

    slug = "vouching-report-not-found"
    title = "No such open report"
    message_key = "vouching.error.report_not_found"
