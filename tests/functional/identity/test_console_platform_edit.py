"""Editing a platform in the operator console (#16) and with `kluis clients update`: the name
and addresses change through `edit_platform`, audited as `client.updated` with the names of the
changed fields only; a bad value is named beside its field, nothing typed is lost and nothing
changes; redirect URIs stay on the platform's host (its residents' pseudonyms depend on it);
the change needs the CSRF token and the password again. Operators only."""

from __future__ import annotations

import html
import json

from click.testing import CliRunner, Result
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from identity.oidc.cli import clients_cli
from identity.oidc.clients import get_client
from service.runtime import Runtime
from tests.functional.identity.test_console_platforms import (
    PLATFORMS,
    actor_of,
    csrf,
    events,
    operator,
)
from tests.support.accounts import STRONG_PASSWORD
from tests.support.oidc import make_resident, make_rp

__all__ = ["operator"]  # the fixture
GOOD = {
    "name": "Buurtplatform Oost",
    "redirect_uris": "https://buurt.example.nl/oidc/callback\r\nhttps://buurt.example.nl/oidc/cb2\r\n",
    "post_logout_redirect_uris": "",
    "backchannel_logout_uri": "https://buurt.example.nl/oidc/backchannel",
    "events_uri": "https://buurt.example.nl/kluis/events",
}


def test_editing_is_a_404_for_residents(
    client: TestClient, runtime: Runtime, session: Session
) -> None:
    client_id = make_rp(session).client_id
    path = f"{PLATFORMS}/{client_id}/edit"
    assert client.get(path, follow_redirects=False).status_code == 303  # to the login page
    make_resident(runtime, session, client)
    assert client.get(path).status_code == 404
    data = {**GOOD, "password": STRONG_PASSWORD, "csrf_token": csrf(client, "/login")}
    assert client.post(path, data=data).status_code == 404
    assert events(session) == []


def test_an_operator_edits_a_platform_with_the_password_again_and_it_is_audited(
    client: TestClient, runtime: Runtime, session: Session, operator: str
) -> None:
    client_id = make_rp(session).client_id
    path = f"{PLATFORMS}/{client_id}/edit"
    form = client.get(path)
    assert form.status_code == 200 and "https://buurt.example.nl/bye</textarea>" in form.text
    assert (
        'href="/console/platforms/' + client_id + '/edit"'
        in client.get(f"{PLATFORMS}/{client_id}").text
    )
    assert client.post(path, data={**GOOD, "password": STRONG_PASSWORD}).status_code == 403
    wrong = client.post(path, data={**GOOD, "password": "fout", "csrf_token": csrf(client, path)})
    assert wrong.status_code == 400 and 'id="password-error"' in wrong.text
    assert "Buurtplatform Oost" in wrong.text  # nothing typed is lost
    done = client.post(
        path,
        data={**GOOD, "password": STRONG_PASSWORD, "csrf_token": csrf(client, path)},
        follow_redirects=False,
    )
    assert (
        done.status_code == 303
        and done.headers["location"] == f"{PLATFORMS}/{client_id}?done=updated"
    )
    session.expire_all()
    found = get_client(session, client_id)
    assert found is not None and found.name == "Buurtplatform Oost"
    assert found.redirect_uris[1] == "https://buurt.example.nl/oidc/cb2"
    assert found.post_logout_redirect_uris == []
    assert found.events_uri == "https://buurt.example.nl/kluis/events"
    assert events(session) == [
        (
            "client.updated",
            actor_of(runtime, session, operator),
            {
                "client": client_id,
                "changed": [
                    "name",
                    "redirect_uris",
                    "post_logout_redirect_uris",
                    "backchannel_logout_uri",
                    "events_uri",
                ],
            },
        )
    ]
    assert 'role="status"' in client.get(f"{PLATFORMS}/{client_id}?done=updated").text


def test_bad_addresses_are_named_beside_their_fields_and_nothing_changes(
    client: TestClient, session: Session, operator: str
) -> None:
    client_id = make_rp(session).client_id
    path = f"{PLATFORMS}/{client_id}/edit"
    bad = {
        "name": " ",
        "redirect_uris": "https://buurt.example.nl/oidc/callback\nhttps://elders.example.org/cb",
        "post_logout_redirect_uris": "https://buurt.example.nl/bye#top",
        "backchannel_logout_uri": "http://buurt.example.nl/bc",
        "events_uri": "buurt.example.nl/events",
        "password": STRONG_PASSWORD,
        "csrf_token": csrf(client, path),
    }
    refused = client.post(path, data=bad)
    assert refused.status_code == 400
    text = html.unescape(refused.text)
    for field in (
        "name",
        "redirect_uris",
        "post_logout_redirect_uris",
        "backchannel_logout_uri",
        "events_uri",
    ):
        assert f'id="{field}-error"' in text, field
    assert "https://elders.example.org/cb</code>" in text  # the value it concerns
    assert (
        "https://buurt.example.nl/oidc/callback\nhttps://elders.example.org/cb</textarea>" in text
    )
    assert 'value="buurt.example.nl/events"' in text
    assert 'id="password-error"' not in text  # no password attempt spent on a typo
    session.expire_all()
    found = get_client(session, client_id)
    assert found is not None and found.name == "Buurtplatform" and found.events_uri is None
    assert events(session) == []


def test_kluis_clients_update_uses_the_same_function(runtime: Runtime, session: Session) -> None:
    client_id = make_rp(session).client_id

    def update(*args: str) -> Result:
        return CliRunner().invoke(clients_cli, ["update", client_id, *args], obj=runtime)

    result = update("--events-uri", "https://buurt.example.nl/events", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["changed"] == ["events_uri"]
    refused = update("--redirect-uri", "https://elders.example.org/cb")
    assert refused.exit_code == 1
    assert "must stay on the platform's host buurt.example.nl" in refused.output
    assert update("--name", "Buurtplatform").output.split() == ["changed", "nothing"]
    assert [(e, a, d) for e, a, d in events(session)] == [
        ("client.updated", "operator:cli", {"client": client_id, "changed": ["events_uri"]})
    ]
