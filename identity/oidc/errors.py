"""Errors of the OpenID provider that are not OAuth wire errors."""

from __future__ import annotations

from core import InvalidInput


class InvalidClientMetadata(InvalidInput):
    """RFC 7591 §3.2.2 `invalid_client_metadata` / an operator's bad `clients add` input."""

    slug = "invalid-client-metadata"
    title = "Invalid client metadata"


class InvalidRedirectUri(InvalidClientMetadata):
    slug = "invalid-redirect-uri"
    title = "Invalid redirect URI"
