"""A test holder (wallet) written from the specifications only: OpenID4VCI 1.0 pre-authorized
code flow (§4.1 offer by reference, §6 token, §7 nonce, §8 credential with `jwt` proofs,
Appendix F.1), OpenID4VP 1.0 presentation (request object by reference, DCQL, `direct_post`),
SD-JWT presentation with key binding (RFC 9901 §7.2), and the status check of
a received credential (Token Status List §8.3).

It talks HTTP through FastAPI's TestClient in-process (absolute URLs are reduced to paths), or
through an httpx.Client to a real server (`Wallet.over_http(base_url)`: URLs are followed as
they are, and must stay on that server's origin, since tests talk only to loopback). It relies
on nothing of Kluis but its URLs.
"""

from __future__ import annotations

import base64
import contextlib
import json
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError
from jwt.algorithms import ECAlgorithm

from attestations.sdjwt import HeldSdJwt, VerificationPolicy, VerifiedSdJwt, verify_sd_jwt

PRE_AUTH_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
OFFER_SCHEME = "openid-credential-offer"
STATUS_LIST_TYP = "statuslist+jwt"
STATUS_LIST_MEDIA_TYPE = "application/statuslist+jwt"
VALID = 0x00
VP_SCHEME = "openid4vp://"
REQUEST_OBJECT_TYP = "oauth-authz-req+jwt"
REQUEST_OBJECT_MEDIA_TYPE = "application/oauth-authz-req+jwt"


class CredentialRevoked(Exception):
    """The issuer's status list says the credential is no longer valid."""


class RequestRefused(Exception):
    """The wallet does not trust or understand the verifier's request object."""


def _refuse(condition: bool, message: str) -> None:
    if not condition:
        raise RequestRefused(message)


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _has(claims: Any, path: tuple[Any, ...]) -> bool:
    for step in path:
        if not isinstance(claims, dict) or step not in claims:
            return False
        claims = claims[step]
    return True


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


@dataclass
class StoredCredential:
    credential: str
    key: ec.EllipticCurvePrivateKey

    def present(self, paths: list[tuple[Any, ...]], nonce: str, audience: str) -> str:
        return HeldSdJwt.parse(self.credential).present(
            paths, holder_key=self.key, nonce=nonce, audience=audience
        )


@dataclass
class Wallet:
    http: Any  # TestClient / httpx.Client
    credentials: list[StoredCredential] = field(default_factory=list)
    last_response: Any = None
    # None: in-process, absolute URLs are reduced to paths. Set: the real server's base URL.
    origin: str | None = None
    last_vp_token: str | None = None
    # the X.509 trust anchors for `x509_san_dns:` verifiers (OpenID4VP §5.9.3)
    trust_anchors: list[x509.Certificate] = field(default_factory=list)

    @classmethod
    @contextlib.contextmanager
    def over_http(cls, base_url: str) -> Iterator[Wallet]:
        """A wallet with its own httpx.Client talking to a real server at `base_url`."""
        with httpx.Client(base_url=base_url, timeout=10.0) as http:
            yield cls(http, origin=base_url)

    def url(self, url: str) -> str:
        """What to hand the HTTP client for a URL found in an offer or in metadata."""
        if self.origin is None:
            return _path(url)
        assert _origin(url) == _origin(self.origin), f"{url} is not on {self.origin}"
        return url

    # -- the offer (§4.1.3) ---------------------------------------------------------------
    def resolve_offer(self, offer_uri: str) -> dict[str, Any]:
        parts = urlsplit(offer_uri)
        assert parts.scheme == OFFER_SCHEME, offer_uri
        query = parse_qs(parts.query)
        assert set(query) == {"credential_offer_uri"}, "offer by reference expected"
        response = self.http.get(self.url(query["credential_offer_uri"][0]))
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/json")
        offer: dict[str, Any] = response.json()
        return offer

    def metadata(self, issuer: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """Credential Issuer Metadata (§12.2.2) and its Authorization Server's (RFC 8414)."""
        issuer_md = self.http.get(self.url(issuer + "/.well-known/openid-credential-issuer")).json()
        assert issuer_md["credential_issuer"] == issuer
        as_issuer = issuer_md.get("authorization_servers", [issuer])[0]
        as_md = self.http.get(
            self.url(as_issuer + "/.well-known/oauth-authorization-server")
        ).json()
        assert PRE_AUTH_GRANT in as_md["grant_types_supported"]
        return issuer_md, as_md

    # -- token (§6) -----------------------------------------------------------------------
    def token(self, as_md: dict[str, Any], code: str, tx_code: str | None) -> Any:
        form = {"grant_type": PRE_AUTH_GRANT, "pre-authorized_code": code}
        if tx_code is not None:
            form["tx_code"] = tx_code
        self.last_response = self.http.post(self.url(as_md["token_endpoint"]), data=form)
        return self.last_response

    # -- nonce (§7) and proofs (Appendix F.1) ----------------------------------------------
    def nonce(self, issuer_md: dict[str, Any]) -> str:
        response = self.http.post(self.url(issuer_md["nonce_endpoint"]))
        assert response.status_code == 200 and "no-store" in response.headers["cache-control"]
        c_nonce: str = response.json()["c_nonce"]
        return c_nonce

    @staticmethod
    def proof(key: ec.EllipticCurvePrivateKey, audience: str, nonce: str, **overrides: Any) -> str:
        jwk = json.loads(ECAlgorithm.to_jwk(key.public_key()))
        headers = {"typ": "openid4vci-proof+jwt", "jwk": jwk, **overrides.pop("headers", {})}
        payload = {"aud": audience, "iat": int(time.time()), "nonce": nonce, **overrides}
        return jwt.encode(payload, key, algorithm="ES256", headers=headers)

    def request_credentials(
        self, issuer_md: dict[str, Any], access_token: str, config_id: str, proofs: list[str]
    ) -> Any:
        self.last_response = self.http.post(
            self.url(issuer_md["credential_endpoint"]),
            json={"credential_configuration_id": config_id, "proofs": {"jwt": proofs}},
            headers={"Authorization": f"Bearer {access_token}"},
        )
        return self.last_response

    # -- checking a received credential (RFC 9901 §7.2 step 1, SD-JWT VC §3.5, §4) ------------
    def issuer_keys(self, issuer: str) -> dict[str, Any]:
        parts = urlsplit(issuer)
        well_known = f"{parts.scheme}://{parts.netloc}/.well-known/jwt-vc-issuer{parts.path}"
        metadata = self.http.get(self.url(well_known)).json()
        assert metadata["issuer"] == issuer
        jwks: dict[str, Any] = self.http.get(self.url(metadata["jwks_uri"])).json()
        return {key["kid"]: key for key in jwks["keys"]}

    def check_credential(self, issuer: str, credential: str) -> VerifiedSdJwt:
        keys = self.issuer_keys(issuer)
        verified = verify_sd_jwt(
            credential,
            key_resolver=lambda header, payload: keys.get(str(header.get("kid"))),
            policy=VerificationPolicy(
                expected_typ="dc+sd-jwt",
                require_key_binding=False,
                required_claims=("iss", "vct", "cnf"),
                expected_issuer=issuer,
            ),
        )
        assert verified.header["typ"] == "dc+sd-jwt"
        return verified

    def status_of(self, verified: VerifiedSdJwt, keys: dict[str, Any]) -> int:
        """Token Status List §8.3: fetch the list the credential names, check its type,
        signature (an issuer key by `kid`), `sub` and expiry, and read the entry (§4.1)."""
        ref = verified.claims["status"]["status_list"]
        response = self.http.get(self.url(ref["uri"]))
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == STATUS_LIST_MEDIA_TYPE
        header = jwt.get_unverified_header(response.text)
        assert header["typ"] == STATUS_LIST_TYP
        claims = jwt.decode(
            response.text,
            jwt.PyJWK(keys[header["kid"]]).key,
            algorithms=["ES256"],
            options={"require": ["sub", "iat", "status_list"]},
        )
        assert claims["sub"] == ref["uri"]
        bits, lst = claims["status_list"]["bits"], claims["status_list"]["lst"]
        array = zlib.decompress(base64.urlsafe_b64decode(lst + "=" * (-len(lst) % 4)))
        per_byte, idx = 8 // bits, ref["idx"]
        return int((array[idx // per_byte] >> ((idx % per_byte) * bits)) & ((1 << bits) - 1))

    def verify(self, issuer: str, credential: str) -> VerifiedSdJwt:
        """What a holder (or verifier) checks before relying on a credential: the issuer's
        signature through its published keys, then the status list. `CredentialRevoked`
        if the issuer revoked it."""
        verified = self.check_credential(issuer, credential)
        if self.status_of(verified, self.issuer_keys(issuer)) != VALID:
            raise CredentialRevoked(verified.claims["status"]["status_list"]["uri"])
        return verified

    # -- the whole flow ---------------------------------------------------------------------
    def accept(self, offer_uri: str, tx_code: str, count: int = 1) -> list[StoredCredential]:
        """Resolve the offer, get a token, a nonce, and `count` credentials on fresh keys."""
        offer = self.resolve_offer(offer_uri)
        issuer = offer["credential_issuer"]
        issuer_md, as_md = self.metadata(issuer)
        grant = offer["grants"][PRE_AUTH_GRANT]
        response = self.token(as_md, grant["pre-authorized_code"], tx_code)
        assert response.status_code == 200, response.text
        access_token = response.json()["access_token"]
        config_id = offer["credential_configuration_ids"][0]
        configuration = issuer_md["credential_configurations_supported"][config_id]
        assert configuration["format"] == "dc+sd-jwt"
        assert count <= issuer_md.get("batch_credential_issuance", {}).get("batch_size", 1)
        nonce = self.nonce(issuer_md)
        keys = [ec.generate_private_key(ec.SECP256R1()) for _ in range(count)]
        proofs = [self.proof(k, issuer, nonce) for k in keys]
        response = self.request_credentials(issuer_md, access_token, config_id, proofs)
        assert response.status_code == 200, response.text
        issued = [
            StoredCredential(item["credential"], key)
            for item, key in zip(response.json()["credentials"], keys, strict=True)
        ]
        for stored in issued:  # the holder checks the credential before keeping it
            held = self.check_credential(issuer, stored.credential)
            assert held.claims["vct"] == configuration["vct"]
        self.credentials.extend(issued)
        return issued

    # -- presenting to a verifier (OpenID4VP 1.0) --------------------------------------------
    def resolve_request(self, qr_payload: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """§5 / RFC 9101 by reference: parse the `openid4vp://` request, fetch the Request
        Object from `request_uri`, check its type and that its `client_id` is the one in the
        QR code, and authenticate it as its Client Identifier prefix says (§5.9.3):
        `redirect_uri:` must be unsigned and name the response URI; `x509_san_dns:` must be
        signed by the leaf of an `x5c` chain that ends at a trust anchor and names the DNS
        name, which must also be the response URI's host. Returns (header, claims);
        `RequestRefused` otherwise."""
        parts = urlsplit(qr_payload)
        assert f"{parts.scheme}://" == VP_SCHEME, qr_payload
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        assert set(query) == {"client_id", "request_uri"}, "request by reference expected"
        response = self.http.get(self.url(query["request_uri"]))
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith(REQUEST_OBJECT_MEDIA_TYPE)
        token = response.text
        header = jwt.get_unverified_header(token)
        _refuse(header.get("typ") == REQUEST_OBJECT_TYP, "not an oauth-authz-req+jwt")
        prefix, _, name = query["client_id"].partition(":")
        if prefix == "redirect_uri":
            claims = self._unsigned_request(token, header)
            _refuse(claims["response_uri"] == name, "redirect_uri: is not the response URI")
        elif prefix == "x509_san_dns":
            claims = self._x509_request(token, header, name)
            host = urlsplit(claims["response_uri"]).hostname
            _refuse(host == name, "the response URI is not on the certificate's DNS name")
        else:
            raise RequestRefused(f"unsupported client identifier prefix {prefix!r}")
        _refuse(claims["client_id"] == query["client_id"], "client_id differs from the QR code")
        assert claims["response_type"] == "vp_token"
        assert claims["response_mode"] == "direct_post"
        assert "dc+sd-jwt" in claims["client_metadata"]["vp_formats_supported"]
        return header, claims

    @staticmethod
    def _claims(token: str, key: Any, algorithms: list[str]) -> dict[str, Any]:
        options: dict[str, Any] = {"require": ["client_id", "nonce", "response_uri", "exp"]}
        if key is None:  # unsecured JWT: still check audience and expiry
            options.update(verify_signature=False, verify_exp=True, verify_aud=True)
        claims: dict[str, Any] = jwt.decode(
            token, key, algorithms=algorithms, audience="https://self-issued.me/v2", options=options
        )
        return claims

    def _unsigned_request(self, token: str, header: dict[str, Any]) -> dict[str, Any]:
        """§5.9.3: requests under `redirect_uri:` cannot be signed."""
        signed = header.get("alg") != "none" or not token.endswith(".")
        _refuse(not signed, "a redirect_uri: request must not be signed")
        return self._claims(token, None, ["none"])

    def _x509_request(self, token: str, header: dict[str, Any], dns_name: str) -> dict[str, Any]:
        _refuse(header.get("alg") == "ES256", "x509_san_dns: requests must be signed (ES256)")
        _refuse(bool(self.trust_anchors), "no X.509 trust anchors configured")
        x5c = header.get("x5c")
        _refuse(isinstance(x5c, list) and bool(x5c), "x5c is required")
        try:
            chain = [x509.load_der_x509_certificate(base64.b64decode(c)) for c in x5c]
            verifier = (
                PolicyBuilder()
                .store(Store(self.trust_anchors))
                .build_server_verifier(x509.DNSName(dns_name))
            )
            verifier.verify(chain[0], chain[1:])  # chain to an anchor, and the dNSName SAN
        except (ValueError, VerificationError) as exc:
            raise RequestRefused(f"certificate chain not trusted: {exc}") from exc
        try:
            return self._claims(token, chain[0].public_key(), ["ES256"])
        except jwt.InvalidSignatureError as exc:
            raise RequestRefused("request object signature does not verify") from exc

    def find_credential(self, vct_values: list[str]) -> StoredCredential:
        for stored in self.credentials:
            if HeldSdJwt.parse(stored.credential).claims.get("vct") in vct_values:
                return stored
        raise LookupError("no credential of the requested type")

    def present(
        self,
        qr_payload: str,
        disclose: list[tuple[Any, ...]] | None = None,
        *,
        credential: StoredCredential | None = None,
        nonce: str | None = None,
        audience: str | None = None,
        vp_token: str | None = None,
    ) -> Any:
        """Answer the request in `qr_payload` with `direct_post` (§8.2): for each DCQL
        credential query one SD-JWT+KB disclosing `disclose` (default: the query's claim
        paths), bound to the request's `nonce` with `aud` = its `client_id` (§B.3.6).
        `nonce`, `audience` and `vp_token` override what is sent (negative tests)."""
        _, request = self.resolve_request(qr_payload)
        if vp_token is None:
            token: dict[str, list[str]] = {}
            for query in request["dcql_query"]["credentials"]:
                assert query["format"] == "dc+sd-jwt"
                stored = credential or self.find_credential(query["meta"]["vct_values"])
                paths = disclose
                if paths is None:
                    paths = [tuple(c["path"]) for c in query.get("claims", [])]
                held = HeldSdJwt.parse(stored.credential).claims
                paths = [p for p in paths if _has(held, p)]  # per credential what it holds
                token[query["id"]] = [
                    stored.present(
                        paths,
                        nonce if nonce is not None else request["nonce"],
                        audience if audience is not None else request["client_id"],
                    )
                ]
            vp_token = json.dumps(token)
        self.last_vp_token = vp_token
        self.last_response = self.http.post(
            self.url(request["response_uri"]),
            data={"vp_token": vp_token, "state": request["state"]},
        )
        return self.last_response
