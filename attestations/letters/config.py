"""What the letters need from the running service: the keyed hash of codes, the attempt
limiter, the poll pseudonym key (shared with the verifier, so a paper vote and a QR vote of one
letter give one pseudonym), the keyed hash of addresses (peer vouching's, so a letter and the
desk give one reference for one address) and the issuer's URLs. Built once from the settings
by the runtime (`service.runtime.build_runtime` calls `letters_config`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from attestations.config import AttestationConfig, attempt_limiter
from attestations.letters.codes import CodeHasher
from attestations.vouching.config import AddressHasher
from identity import LoginLimiter, poll_pseudonym_key

# wrong codes one account, and one client address, may type within the login window
ATTEMPTS_PER_ACCOUNT = 10
ATTEMPTS_PER_ADDRESS = 30
THROTTLE_KEY_PURPOSE = "kluis/letters/attempt-throttle"
MAX_VALIDITY = dt.timedelta(days=366)  # a poll runs for weeks; a letter lasts up to a year
REDEEM_PATH = "/letters/redeem"


@dataclass(frozen=True)
class LettersConfig:
    issuer: str
    hasher: CodeHasher
    limiter: LoginLimiter
    pseudonym_key: bytes
    attestations: AttestationConfig
    address_hasher: AddressHasher

    def redeem_url(self, code: str | None = None) -> str:
        """The redeem page, with the code filled in (what a letter's QR code holds)."""
        base = f"{self.issuer}{REDEEM_PATH}"
        return f"{base}?{urlencode({'code': code})}" if code else base


def letters_config(settings: Any, attestations: AttestationConfig | None = None) -> LettersConfig:
    """From the service settings (`secret_bytes`, `issuer`, `login_failure_window`). The
    limiter shares the login limiter's table, under its own key, so its window must be the
    login window: each limiter purges rows older than its own window."""
    secret: bytes = settings.secret_bytes
    return LettersConfig(
        issuer=settings.issuer,
        hasher=CodeHasher(secret),
        limiter=attempt_limiter(
            settings, THROTTLE_KEY_PURPOSE, ATTEMPTS_PER_ACCOUNT, ATTEMPTS_PER_ADDRESS
        ),
        pseudonym_key=poll_pseudonym_key(secret),
        attestations=attestations or AttestationConfig(settings.issuer),
        address_hasher=AddressHasher.from_secret(secret),
    )
