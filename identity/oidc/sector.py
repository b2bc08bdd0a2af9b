"""OIDC Core §8.1: a `sector_identifier_uri` document is a JSON array of redirect URIs,
fetched over https when a client registers with one."""

from __future__ import annotations

import httpx

from identity.oidc.registration import InvalidClientMetadataError

SECTOR_FETCH_TIMEOUT_S = 10.0
MAX_DOCUMENT_BYTES = 64 * 1024


def fetch_sector_uris(uri: str) -> list[str]:
    try:
        response = httpx.get(uri, timeout=SECTOR_FETCH_TIMEOUT_S, follow_redirects=False)
        response.raise_for_status()
        if len(response.content) > MAX_DOCUMENT_BYTES:
            raise InvalidClientMetadataError("sector_identifier_uri document is too large")
        data = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise InvalidClientMetadataError("sector_identifier_uri could not be fetched") from exc
    if not isinstance(data, list) or not all(isinstance(u, str) for u in data):
        raise InvalidClientMetadataError("sector_identifier_uri must return a JSON array of URIs")
    return data
