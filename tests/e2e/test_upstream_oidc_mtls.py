"""The upstream DigiD login with RFC 8705 `tls_client_auth`: a real broker (node oidc-provider
over HTTPS, asking every client for a certificate) knows Kluis's client only by the subject of
its TLS client certificate, so the token request carries no secret and no assertion. The
certificates are throw-away ones made here (`tests.support.tls_certs`); Kluis checks the broker's
server certificate against that test CA (`KLUIS_UPSTREAM_CA_FILE`)."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from adapters import OidcUpstream, UpstreamConfig, client_tls
from adapters.upstream_oidc_tokens import UpstreamMisconfigured, UpstreamUnavailable
from tests.support import forms
from tests.support.oidc_provider import ReferenceOP, run_oidc_provider
from tests.support.tls_certs import OIN, Pki, make_pki

pytestmark = pytest.mark.e2e

REDIRECT_URI = "http://127.0.0.1:9/upstream/callback"  # never served: the walk stops there
CLIENT_ID = "kluis-mtls"
PASSWORD = "correct horse battery staple"
BSN = "999993653"
ACCOUNTS = 6
# the client certificate's subject, as the broker was told it (see server.mjs)
SUBJECT_DN = f"CN=kluis.gemeente.test,O=Gemeente Test,serialNumber={OIN},C=NL"

_next_account = iter(range(ACCOUNTS))


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("brp_mtls_pki"))


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory, pki: Pki) -> Iterator[ReferenceOP]:
    clients = [
        {
            "client_id": CLIENT_ID,
            "redirect_uris": [REDIRECT_URI],
            "token_endpoint_auth_method": "tls_client_auth",
            "tls_client_auth_subject_dn": SUBJECT_DN,
        }
    ]
    accounts = [
        {"email": f"resident{n}@example.org", "password": PASSWORD, "claims": {"bsn": BSN}}
        for n in range(ACCOUNTS)
    ]
    tls = {"cert": str(pki.server_cert), "key": str(pki.server_key), "ca": str(pki.ca_file)}
    with run_oidc_provider(
        tmp_path_factory.mktemp("upstream-mtls-broker"), clients=clients, accounts=accounts, tls=tls
    ) as op:
        yield op


def upstream(op: ReferenceOP, tls: ssl.SSLContext) -> OidcUpstream:
    config = UpstreamConfig(
        issuer=op.issuer,
        client_id=CLIENT_ID,
        client_secret="",
        redirect_uri=REDIRECT_URI,
        client_auth="tls_client_auth",
        tls=tls,
    )
    return OidcUpstream(config)


def log_in(client: OidcUpstream, pki: Pki) -> tuple[object, dict[str, str]]:
    url, pending = client.start_login(ui_locales="nl")
    # the resident's browser has no client certificate, and needs none
    with httpx.Client(timeout=10, verify=client_tls(ca_file=pki.ca_file)) as browser:
        done = forms.authorize(
            browser,
            url,
            redirect_uri=REDIRECT_URI,
            email=f"resident{next(_next_account)}@example.org",
            password=PASSWORD,
        )
    return pending, dict(done.callback_url.params)


def test_the_broker_knows_kluis_by_its_client_certificate(broker: ReferenceOP, pki: Pki) -> None:
    assert broker.issuer.startswith("https://")
    client = upstream(broker, client_tls(pki.client, pki.ca_file, what="broker"))
    pending, callback = log_in(client, pki)
    assert client.finish_login(pending, callback).bsn == BSN  # type: ignore[arg-type]
    client.close()


def test_without_the_certificate_the_broker_refuses_the_client(
    broker: ReferenceOP, pki: Pki
) -> None:
    client = upstream(broker, client_tls(ca_file=pki.ca_file))
    pending, callback = log_in(client, pki)
    with pytest.raises(UpstreamMisconfigured, match="invalid_client"):
        client.finish_login(pending, callback)  # type: ignore[arg-type]
    client.close()


def test_a_certificate_of_the_ca_with_another_subject_is_refused(
    broker: ReferenceOP, pki: Pki, tmp_path: Path
) -> None:
    other = make_pki(tmp_path / "other", client_name="iemand.anders.test", signed_by=pki)
    client = upstream(broker, client_tls(other.client, pki.ca_file))
    pending, callback = log_in(client, pki)
    with pytest.raises(UpstreamMisconfigured, match="invalid_client"):
        client.finish_login(pending, callback)  # type: ignore[arg-type]
    client.close()


def test_the_subject_from_another_ca_is_refused(
    broker: ReferenceOP, pki: Pki, tmp_path: Path
) -> None:
    forged = make_pki(tmp_path / "forged")  # same subject, a CA the broker does not trust
    client = upstream(broker, client_tls(forged.client, pki.ca_file))
    pending, callback = log_in(client, pki)
    with pytest.raises(UpstreamMisconfigured, match="invalid_client"):
        client.finish_login(pending, callback)  # type: ignore[arg-type]
    client.close()


def test_a_broker_certificate_the_ca_bundle_does_not_vouch_for_is_not_talked_to(
    broker: ReferenceOP, pki: Pki, tmp_path: Path
) -> None:
    stranger = make_pki(tmp_path / "stranger")
    client = upstream(broker, client_tls(pki.client, stranger.ca_file))
    with pytest.raises(UpstreamUnavailable, match="discovery"):
        client.start_login()
    client.close()
