"""Development only: an `UpstreamLogin` without a broker (`DevelopmentUpstream`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping

import httpx

from adapters.upstream_oidc import (
    DEFAULT_PENDING_MAX_AGE_S,
    PendingLogin,
    UpstreamIdentity,
    new_pending,
)
from adapters.upstream_oidc_tokens import InvalidCallback, check_pending, read_bsn

log = logging.getLogger("kluis.upstream_oidc")


class DevelopmentUpstream:
    """Development only: "logs in" `test_bsn` without any broker. The authorization URL leads
    straight back to the redirect_uri, with the same state check and age limit as a real
    broker."""

    def __init__(
        self,
        redirect_uri: str,
        test_bsn: str = "999993653",
        *,
        pending_max_age_s: float = DEFAULT_PENDING_MAX_AGE_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.redirect_uri = redirect_uri
        self.test_bsn = read_bsn({"bsn": test_bsn}, "bsn")
        self.pending_max_age_s = pending_max_age_s
        self.clock = clock
        log.warning(
            "development upstream login in use: every login yields the test BSN, no broker",
            extra={"hint": "configure KLUIS_UPSTREAM_ISSUER for a real DigiD broker"},
        )

    def start_login(self, *, ui_locales: str | None = None) -> tuple[str, PendingLogin]:
        pending = new_pending(self.clock())
        url = httpx.URL(self.redirect_uri).copy_merge_params(
            {"code": "development", "state": pending.state}
        )
        return str(url), pending

    def finish_login(
        self, pending: PendingLogin, callback_query: Mapping[str, str]
    ) -> UpstreamIdentity:
        check_pending(
            pending.state, pending.created_at, callback_query, self.clock(), self.pending_max_age_s
        )
        if callback_query.get("code") != "development":
            raise InvalidCallback("development callback without its code")
        return UpstreamIdentity(bsn=self.test_bsn, subject="development", acr=None)
