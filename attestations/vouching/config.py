"""What peer vouching needs from the running service: the rules of the deployment, the issuer's
attestation settings, and two keys derived from the secret key for these purposes only (the
typed short code of a request, and the keyed hash of an address)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass, field
from typing import Any

from attestations.config import AttestationConfig, attempt_limiter
from attestations.types import normalize_postcode
from attestations.vouching.rules import VouchingRules
from core import InvalidInput
from identity import LoginLimiter
from keys import derive_key

CODE_KEY_PURPOSE = "kluis/vouching/code"
ADDRESS_KEY_PURPOSE = "kluis/vouching/address"
THROTTLE_KEY_PURPOSE = "kluis/vouching/attempt-throttle"
# wrong short codes one voucher, and one client address, may type within the login window
ATTEMPTS_PER_ACCOUNT = 10
ATTEMPTS_PER_ADDRESS = 30
HOUSE_NUMBER = re.compile(r"^[1-9][0-9]{0,4}$")
# BAG huisletter + huisnummertoevoeging, without spaces and dashes (as letters read them)
ADDITION = re.compile(r"^[A-Z0-9]{0,6}$")
_SEPARATORS = re.compile(r"[\s\-]")


@dataclass(frozen=True)
class AddressHasher:
    """The keyed hash of an address (`VouchingConfig.address_ref`), for the sources that know
    a house number: the desk, letters and the registry all hash with the one key derived for
    this purpose, so one address gives one reference whichever source saw it."""

    key: bytes = field(repr=False)

    @classmethod
    def from_secret(cls, secret: bytes) -> AddressHasher:
        return cls(derive_key(secret, ADDRESS_KEY_PURPOSE))

    def __call__(self, postcode: str, house_number: str | int, addition: str = "") -> str:
        """HMAC-SHA256 of the normalised address (`1087AB 12 A`): equal for one address
        however it was typed, and useless without the key. Never stored with the address.
        `InvalidInput` for a malformed house number or addition (its message names neither),
        `InvalidClaims` for a malformed postcode."""
        number = str(house_number).strip()
        extra = _SEPARATORS.sub("", addition).upper()
        if not HOUSE_NUMBER.match(number) or not ADDITION.match(extra):
            raise InvalidInput("house number must be 1 to 99999, with an optional addition")
        text = f"{normalize_postcode(postcode)} {number} {extra}".rstrip()
        return hmac.new(self.key, text.encode("ascii"), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class VouchingConfig:
    attestations: AttestationConfig
    code_key: bytes = field(repr=False)
    address_key: bytes = field(repr=False)
    limiter: LoginLimiter = field(repr=False)
    rules: VouchingRules = field(default_factory=VouchingRules)
    request_ttl: dt.timedelta = dt.timedelta(minutes=10)

    def code_hash(self, code: str) -> str:
        """The keyed hash a request's typed code is stored and found by."""
        return hmac.new(self.code_key, code.encode("ascii"), hashlib.sha256).hexdigest()

    def address_ref(self, postcode: str, house_number: str | int, addition: str = "") -> str:
        """The keyed hash of an address (`AddressHasher`)."""
        return AddressHasher(self.address_key)(postcode, house_number, addition)


def vouching_config(
    settings: Any,
    attestations: AttestationConfig | None = None,
    rules: VouchingRules | None = None,
) -> VouchingConfig:
    """From the service settings (`secret_bytes`, `issuer`, `login_failure_window`, and the
    `vouching_*` rules). The limiter shares the login limiter's table under its own key, so
    its window is the login window (each limiter purges rows older than its own window)."""
    secret: bytes = settings.secret_bytes
    limiter = attempt_limiter(
        settings, THROTTLE_KEY_PURPOSE, ATTEMPTS_PER_ACCOUNT, ATTEMPTS_PER_ADDRESS
    )
    return VouchingConfig(
        attestations=attestations or AttestationConfig(settings.issuer),
        code_key=derive_key(secret, CODE_KEY_PURPOSE),
        address_key=derive_key(secret, ADDRESS_KEY_PURPOSE),
        limiter=limiter,
        rules=rules or rules_from_settings(settings),
    )


def rules_from_settings(settings: Any) -> VouchingRules:
    """The deployment's rules: `KLUIS_VOUCHING_THRESHOLD`, `_WINDOW_DAYS`, `_VOUCHER_MIN_AGE_DAYS`,
    `_QUOTA`, `_QUOTA_PERIOD_DAYS`, `_SUSPENSION_DAYS`, `_VALIDITY_DAYS` (the defaults of
    `VouchingRules` where a setting is absent). The renewal window is 30 days, or half the
    validity when that is shorter (any validity the settings allow makes valid rules)."""
    base = VouchingRules()

    def days(name: str, default: dt.timedelta) -> dt.timedelta:
        value = getattr(settings, f"vouching_{name}_days", None)
        return default if value is None else dt.timedelta(days=int(value))

    threshold = getattr(settings, "vouching_threshold", None)
    quota = getattr(settings, "vouching_quota", None)
    validity = days("validity", base.peer_validity)
    return VouchingRules(
        threshold=base.threshold if threshold is None else int(threshold),
        window=days("window", base.window),
        voucher_min_age=days("voucher_min_age", base.voucher_min_age),
        quota=base.quota if quota is None else int(quota),
        quota_period=days("quota_period", base.quota_period),
        suspension=days("suspension", base.suspension),
        peer_validity=validity,
        renewal_window=min(base.renewal_window, validity / 2),
    )
