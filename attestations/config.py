"""Settings of the attestation issuer, and the URLs it derives from the issuer identifier."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from identity import LoginLimiter, LoginLimits
from keys import derive_key

PRE_AUTH_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
MINUTE = dt.timedelta(minutes=1)
# what an operator may choose as an offer's lifetime (`kluis attestations offer --ttl`)
OFFER_TTL_BOUNDS = (dt.timedelta(seconds=1), dt.timedelta(days=1))


@dataclass(frozen=True)
class AttestationConfig:
    issuer: str
    offer_ttl: dt.timedelta = 15 * MINUTE
    access_token_ttl: dt.timedelta = 5 * MINUTE
    nonce_ttl: dt.timedelta = 5 * MINUTE
    proof_max_age: dt.timedelta = 5 * MINUTE
    batch_size: int = 10
    max_tx_attempts: int = 5
    tx_code_length: int = 6
    status_list_size: int = 2**17
    status_list_ttl: dt.timedelta = 5 * MINUTE  # how long relying parties may cache a list
    status_list_lifetime: dt.timedelta = dt.timedelta(days=1)  # `exp` of a list token
    # "/token" once the OpenID provider's token endpoint dispatches the pre-authorized grant
    token_path: str = "/token"  # noqa: S105 (a URL path, not a secret): the OP's endpoint

    def __post_init__(self) -> None:
        object.__setattr__(self, "issuer", self.issuer.rstrip("/"))

    def vct(self, type_id: str) -> str:
        return f"{self.issuer}/vct/{type_id}"

    def status_uri(self, list_id: str) -> str:
        return f"{self.issuer}/status/{list_id}"

    def offer_uri(self, ref: str) -> str:
        return f"{self.issuer}/credential-offer/{ref}"

    @property
    def token_endpoint(self) -> str:
        return f"{self.issuer}{self.token_path}"


def attempt_limiter(settings: Any, purpose: str, per_account: int, per_ip: int) -> LoginLimiter:
    """A limiter of wrong guesses of a typed code (letters, vouching requests), per account
    and per client address. It shares the login limiter's table under its own key (derived
    for `purpose`), so its window must be the login window: each limiter purges rows older
    than its own window. Its log records name it by the purpose's middle part
    (`kluis/letters/attempt-throttle` → "letters"), not "login"."""
    limits = LoginLimits(
        per_account=per_account,
        per_ip=per_ip,
        window=dt.timedelta(seconds=settings.login_failure_window),
    )
    parts = purpose.split("/")
    name = parts[1] if len(parts) == 3 and parts[0] == "kluis" else purpose
    return LoginLimiter(derive_key(settings.secret_bytes, purpose), limits, name=name)
