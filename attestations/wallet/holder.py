"""A holder (wallet) library for power users, demos and tests, speaking only the open
protocols over HTTP: OpenID4VCI 1.0 (offer by reference §4.1.3, Credential Issuer metadata
§12.2, token §6 with the pre-authorized code and `tx_code`, nonce §7, credential §8 with a
`jwt` key proof, Appendix F.1) and OpenID4VP 1.0 (request by reference with `request_uri`, DCQL
§6, SD-JWT+KB presentation §B.3, `direct_post` §8.2, error response §8.5). It knows nothing
of Kluis's internals and works with any conforming issuer and verifier.

URLs must be https, except loopback (development).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from attestations.sdjwt import HeldSdJwt, VerificationPolicy, verify_sd_jwt
from attestations.wallet.holder_store import HolderStore, StoredCredential
from attestations.wallet.holder_x509 import ChainRefused, request_key

PRE_AUTH_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
OFFER_SCHEME = "openid-credential-offer"
VP_SCHEME = "openid4vp"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class HolderError(Exception):
    """The issuer or verifier answered something the protocol does not allow."""


def _check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK):
        return url
    raise HolderError(f"refusing a non-https URL: {url[:80]}")


def _json(response: httpx.Response, what: str) -> dict[str, Any]:
    if response.status_code != 200:
        raise HolderError(f"{what}: HTTP {response.status_code}: {response.text[:200]}")
    body = response.json()
    if not isinstance(body, dict):
        raise HolderError(f"{what}: not a JSON object")
    return body


@dataclass(frozen=True)
class Asked:
    """One DCQL credential query, and what this wallet would answer with."""

    query_id: str
    vct_values: tuple[str, ...]
    paths: tuple[tuple[Any, ...], ...]  # the claims to disclose
    credential: StoredCredential | None


@dataclass(frozen=True)
class PresentationRequest:
    client_id: str
    response_uri: str
    nonce: str
    state: str | None
    asked: tuple[Asked, ...]

    @property
    def satisfiable(self) -> bool:
        return all(a.credential is not None for a in self.asked)


class Holder:
    def __init__(
        self,
        http: httpx.Client,
        store: HolderStore,
        trust_anchors: Sequence[x509.Certificate] = (),
        insecure_skip_chain: bool = False,
    ) -> None:
        self.http = http
        self.store = store
        self.trust_anchors = list(trust_anchors)  # for x509_san_dns: request objects
        self.insecure_skip_chain = insecure_skip_chain

    # --- OpenID4VCI ------------------------------------------------------------------------

    def _offer(self, offer_uri: str) -> dict[str, Any]:
        parts = urlsplit(offer_uri)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.scheme != OFFER_SCHEME:
            raise HolderError("not an openid-credential-offer:// URI")
        if "credential_offer" in query:
            offer: dict[str, Any] = json.loads(query["credential_offer"])
            return offer
        uri = _check_url(query.get("credential_offer_uri", ""))
        return _json(self.http.get(uri), "credential offer")

    def _issuer_keys(self, issuer: str) -> dict[str, Any]:
        """SD-JWT VC §4: `/.well-known/jwt-vc-issuer` inserted before the issuer's path."""
        parts = urlsplit(issuer)
        url = f"{parts.scheme}://{parts.netloc}/.well-known/jwt-vc-issuer{parts.path}"
        metadata = _json(self.http.get(_check_url(url)), "issuer metadata")
        if metadata.get("issuer") != issuer:
            raise HolderError("jwt-vc-issuer metadata names another issuer")
        jwks = metadata.get("jwks") or _json(
            self.http.get(_check_url(metadata["jwks_uri"])), "issuer JWKS"
        )
        return {k["kid"]: k for k in jwks["keys"] if "kid" in k}

    def receive(
        self, offer_uri: str, tx_code: str | None, count: int = 1
    ) -> list[StoredCredential]:
        offer = self._offer(offer_uri)
        issuer = _check_url(offer["credential_issuer"])
        issuer_md = _json(
            self.http.get(issuer + "/.well-known/openid-credential-issuer"), "issuer metadata"
        )
        as_issuer = _check_url(issuer_md.get("authorization_servers", [issuer])[0])
        as_md = _json(
            self.http.get(as_issuer + "/.well-known/oauth-authorization-server"), "AS metadata"
        )
        grant = offer["grants"][PRE_AUTH_GRANT]
        form = {"grant_type": PRE_AUTH_GRANT, "pre-authorized_code": grant["pre-authorized_code"]}
        if tx_code is not None:
            form["tx_code"] = tx_code
        token = _json(self.http.post(_check_url(as_md["token_endpoint"]), data=form), "token")
        nonce = _json(self.http.post(_check_url(issuer_md["nonce_endpoint"])), "nonce")["c_nonce"]
        config_id = offer["credential_configuration_ids"][0]
        keys = [ec.generate_private_key(ec.SECP256R1()) for _ in range(count)]
        now = int(time.time())
        proofs = [
            jwt.encode(
                {"aud": issuer, "iat": now, "nonce": nonce},
                key,
                algorithm="ES256",
                headers={
                    "typ": "openid4vci-proof+jwt",
                    "jwk": json.loads(ECAlgorithm.to_jwk(key.public_key())),
                },
            )
            for key in keys
        ]
        issued = _json(
            self.http.post(
                _check_url(issuer_md["credential_endpoint"]),
                json={"credential_configuration_id": config_id, "proofs": {"jwt": proofs}},
                headers={"Authorization": f"Bearer {token['access_token']}"},
            ),
            "credential",
        )
        trusted = self._issuer_keys(issuer)
        stored = []
        for item, key in zip(issued["credentials"], keys, strict=True):
            verify_sd_jwt(  # the holder checks the issuer's signature before keeping it
                item["credential"],
                key_resolver=lambda header, payload: trusted.get(str(header.get("kid"))),
                policy=VerificationPolicy(
                    expected_typ="dc+sd-jwt",
                    require_key_binding=False,
                    required_claims=("iss", "vct", "cnf"),
                    expected_issuer=issuer,
                ),
            )
            stored.append(StoredCredential.new(issuer, item["credential"], key, now))
        self.store.add(stored)
        return stored

    # --- OpenID4VP -------------------------------------------------------------------------

    def _request_object(self, client_id: str, request_uri: str) -> dict[str, Any]:
        response = self.http.get(_check_url(request_uri))
        if response.status_code != 200:
            raise HolderError(f"request object: HTTP {response.status_code}")
        token = response.text.strip()
        header = jwt.get_unverified_header(token)
        prefix = client_id.partition(":")[0]
        options: jwt.types.Options = {"require": ["client_id", "nonce", "response_uri"]}
        if header.get("alg") == "none":
            if prefix != "redirect_uri":
                raise HolderError("an unsigned request object needs the redirect_uri: prefix")
            claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
        elif "x5c" in header:
            if prefix != "x509_san_dns":
                raise HolderError("a request object with x5c needs the x509_san_dns: prefix")
            try:
                leaf_key = request_key(
                    header["x5c"],
                    client_id.partition(":")[2],
                    self.trust_anchors,
                    skip_chain=self.insecure_skip_chain,
                )
            except ChainRefused as exc:
                raise HolderError(str(exc)) from exc
            claims = jwt.decode(
                token,
                leaf_key,
                algorithms=["ES256"],
                audience="https://self-issued.me/v2",
                options=options,
            )
        else:
            # OpenID4VP §5.9.3: a signed request needs a prefix that tells the wallet which key
            # to trust; a key fetched from the request's own host proves nothing
            raise HolderError("a signed request object needs x5c and the x509_san_dns: prefix")
        if claims.get("client_id") != client_id:
            raise HolderError("the request object names another client")
        if (
            claims.get("response_type") != "vp_token"
            or claims.get("response_mode") != "direct_post"
        ):
            raise HolderError("only response_type=vp_token with direct_post is supported")
        if prefix == "redirect_uri" and client_id.partition(":")[2] != claims["response_uri"]:
            raise HolderError("redirect_uri: client identifier differs from response_uri")
        if prefix == "x509_san_dns" and (
            urlsplit(str(claims["response_uri"])).hostname != client_id.partition(":")[2]
        ):
            # §5.9.3: otherwise a trusted verifier's request could send the answer elsewhere
            raise HolderError("x509_san_dns: response_uri is not on the certificate's host")
        return claims

    def resolve(self, qr_payload: str) -> PresentationRequest:
        """Accepts `openid4vp://?client_id=…&request_uri=…` or its https universal link."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(qr_payload).query).items()}
        if "client_id" not in query or "request_uri" not in query:
            raise HolderError("not an OpenID4VP request by reference")
        claims = self._request_object(query["client_id"], query["request_uri"])
        held = self.store.load()
        asked = tuple(_answer(q, held) for q in claims["dcql_query"]["credentials"])
        return PresentationRequest(
            claims["client_id"],
            _check_url(claims["response_uri"]),
            claims["nonce"],
            claims.get("state"),
            asked,
        )

    def present(self, request: PresentationRequest, approve: bool = True) -> dict[str, Any]:
        form: dict[str, str] = {}
        if request.state is not None:
            form["state"] = request.state
        if not approve or not request.satisfiable:
            form["error"] = "access_denied"
        else:
            vp_token = {}
            for asked in request.asked:
                assert asked.credential is not None
                vp_token[asked.query_id] = [
                    HeldSdJwt.parse(asked.credential.credential).present(
                        asked.paths,
                        holder_key=asked.credential.key,
                        nonce=request.nonce,
                        audience=request.client_id,
                    )
                ]
            form["vp_token"] = json.dumps(vp_token)
        return _json(self.http.post(request.response_uri, data=form), "response")


def _has(claims: Any, path: tuple[Any, ...]) -> bool:
    for step in path:
        in_object = isinstance(claims, dict) and step in claims
        in_array = isinstance(claims, list) and isinstance(step, int) and 0 <= step < len(claims)
        if not (in_object or in_array):
            return False
        claims = claims[step]
    return True


def _answer(query: dict[str, Any], held: list[StoredCredential]) -> Asked:
    """The first stored credential of an acceptable `vct` that has the claims of the first
    satisfiable claim set (DCQL §6.4.1); only those claims are disclosed."""
    vcts = tuple(query.get("meta", {}).get("vct_values", ()))
    claims = query.get("claims") or []
    by_id = {c.get("id"): tuple(c["path"]) for c in claims}
    options = [tuple(by_id[i] for i in s) for s in query.get("claim_sets") or []] or [
        tuple(tuple(c["path"]) for c in claims)
    ]
    for stored in held:
        if vcts and stored.vct not in vcts:
            continue
        values = stored.claims
        for option in options:
            if all(_has(values, p) for p in option):
                return Asked(query["id"], vcts, option, stored)
    return Asked(query["id"], vcts, options[0], None)
