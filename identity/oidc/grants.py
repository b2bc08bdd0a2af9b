"""The token endpoint's grants (RFC 6749 §4, §6): a registry that the composition root fills,
so that the endpoint dispatches by `grant_type` without knowing who implements a grant.

The provider registers its own two (`authorization_code`, `refresh_token`); `service` adds the
pre-authorized code grant of OpenID4VCI 1.0 §6, implemented in `attestations`, which wallets
redeem without client authentication (`anonymous`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from identity.oidc.models import Client

if TYPE_CHECKING:
    from identity.oidc.provider import Provider

# (session, provider, the authenticated client or None for an anonymous grant, form) -> body
GrantHandler = Callable[[Session, "Provider", Client | None, Mapping[str, str]], dict[str, Any]]


@dataclasses.dataclass(frozen=True)
class GrantType:
    name: str
    handle: GrantHandler
    # the grant authenticates no client (OpenID4VCI §6: a wallet is not a registered client)
    anonymous: bool = False


class GrantRegistry:
    def __init__(self, *grants: GrantType) -> None:
        self._grants: dict[str, GrantType] = {}
        for grant in grants:
            self.register(grant)

    def register(self, grant: GrantType) -> None:
        if grant.name in self._grants:
            raise ValueError(f"grant type {grant.name} is registered already")
        self._grants[grant.name] = grant

    def get(self, name: str | None) -> GrantType | None:
        return self._grants.get(name) if name else None

    def names(self) -> list[str]:
        return sorted(self._grants)
