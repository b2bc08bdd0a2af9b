"""The operator console's platforms (#16): only operators see it (everyone else gets the same
404 as an unknown path, a visitor who is not logged in goes to the login page); adding with a
preset shows the platform-side settings and the secret once; rotating and removing need the
password again; every POST needs the CSRF token; every change is an audit entry naming the
operator by reference, made by the same functions `kluis clients` uses."""

from __future__ import annotations

import html
import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.models import AuditEntry
from identity.accounts.models import Account
from identity.accounts.roles import OPERATOR_ROLE, grant_role
from identity.oidc.clients import get_client, secret_matches
from service.runtime import Runtime
from tests.support.accounts import STRONG_PASSWORD, install_fast_accounts
from tests.support.oidc import make_resident, make_rp

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_SECRET = re.compile(r'<code id="client-secret">([^<]+)</code>')
_CLIENT = re.compile(r'<code id="client-id">([^<]+)</code>')
PLATFORMS = "/console/platforms"


def csrf(client: TestClient, path: str) -> str:
    [token] = _CSRF.findall(client.get(path).text)[:1]
    return str(token)


def events(session: Session, prefix: str = "client.") -> list[tuple[str, str, dict[str, object]]]:
    rows = session.scalars(
        select(AuditEntry).where(AuditEntry.event.startswith(prefix)).order_by(AuditEntry.idx)
    )
    return [(r.event, r.actor, json.loads(r.entry)["details"]) for r in rows]


@pytest.fixture
def operator(client: TestClient, runtime: Runtime, session: Session) -> str:
    """A logged-in operator whose password is STRONG_PASSWORD."""
    accounts = install_fast_accounts(client.app)  # type: ignore[arg-type]
    resident = make_resident(runtime, session, client, email="beheer@example.org")
    account = session.get(Account, resident.account_id)
    assert account is not None
    account.password_hash = accounts.passwords.hash(STRONG_PASSWORD)
    grant_role(session, runtime.subject_keys, resident.account_id, OPERATOR_ROLE, "operator:cli")
    session.commit()
    return resident.account_id


def actor_of(runtime: Runtime, session: Session, account_id: str) -> str:
    return f"operator:{runtime.subject_keys.reference(session, account_id)}"


def add_nextcloud(client: TestClient, base_url: str = "https://wolk.example.org") -> str:
    page = client.post(
        PLATFORMS,
        data={"preset": "nextcloud", "base_url": base_url, "csrf_token": csrf(client, PLATFORMS)},
    )
    assert page.status_code == 201, page.text
    return page.text


def test_the_console_is_a_404_for_residents_and_a_login_for_visitors(
    client: TestClient, runtime: Runtime, session: Session
) -> None:
    rp = make_rp(session)
    session.commit()
    paths = ["/console", PLATFORMS, f"{PLATFORMS}/{rp.client_id}", f"{PLATFORMS}/kc_x/remove"]
    for path in paths:
        visitor = client.get(path, follow_redirects=False)
        assert visitor.status_code == 303 and visitor.headers["location"].startswith("/login?")
    make_resident(runtime, session, client)
    for path in paths:
        assert client.get(path).status_code == 404
    token = csrf(client, "/login")
    for path in [PLATFORMS, f"{PLATFORMS}/{rp.client_id}/remove"]:
        data = {"preset": "nextcloud", "base_url": "https://x.example.org", "csrf_token": token}
        assert client.post(path, data={**data, "password": "x"}).status_code == 404
    assert get_client(session, rp.client_id) is not None and events(session) == []


def test_an_operator_adds_a_platform_with_a_preset_and_sees_its_settings_and_secret_once(
    client: TestClient, runtime: Runtime, session: Session, operator: str
) -> None:
    assert client.get("/console", follow_redirects=False).headers["location"] == PLATFORMS
    listing = client.get(PLATFORMS)
    assert listing.status_code == 200 and listing.headers["cache-control"] == "no-store"
    assert 'value="nextcloud"' in listing.text
    added = add_nextcloud(client)
    [client_id] = _CLIENT.findall(added)
    [secret] = _SECRET.findall(added)
    shown = html.unescape(added)
    assert "occ user_oidc:provider" in shown and f'--clientsecret="{secret}"' in shown
    found = get_client(session, client_id)
    assert found is not None and secret_matches(found, secret)
    assert found.redirect_uris[0] == "https://wolk.example.org/apps/user_oidc/code"
    listing = client.get(PLATFORMS).text
    assert f'data-client="{client_id}"' in listing and secret not in listing
    assert secret not in client.get(f"{PLATFORMS}/{client_id}").text
    assert events(session) == [
        (
            "client.added",
            actor_of(runtime, session, operator),
            {"client": client_id, "auth_method": "client_secret_post", "preset": "nextcloud"},
        )
    ]


def test_adding_needs_csrf_a_preset_and_a_usable_address(
    client: TestClient, session: Session, operator: str
) -> None:
    data = {"preset": "nextcloud", "base_url": "https://wolk.example.org"}
    assert client.post(PLATFORMS, data=data).status_code == 403
    token = csrf(client, PLATFORMS)
    missing = client.post(PLATFORMS, data={"csrf_token": token})
    assert missing.status_code == 400
    assert 'id="preset-error"' in missing.text and 'id="base_url-error"' in missing.text
    bad = client.post(
        PLATFORMS, data={**data, "base_url": "http://wolk.example.org", "csrf_token": token}
    )
    assert bad.status_code == 400 and 'id="detail"' in bad.text
    odd = client.post(PLATFORMS, data={**data, "preset": "wordpress", "csrf_token": token})
    assert odd.status_code == 400
    assert events(session) == []


def test_rotating_the_secret_needs_csrf_and_the_password_again(
    client: TestClient, runtime: Runtime, session: Session, operator: str
) -> None:
    [client_id] = _CLIENT.findall(add_nextcloud(client))
    path = f"{PLATFORMS}/{client_id}/rotate-secret"
    form = client.get(path)
    assert form.status_code == 200 and 'type="password"' in form.text
    assert client.post(path, data={"password": STRONG_PASSWORD}).status_code == 403
    wrong = client.post(
        path, data={"password": "niet het wachtwoord", "csrf_token": csrf(client, path)}
    )
    assert wrong.status_code == 400 and 'id="password-error"' in wrong.text
    assert [e for e, _, _ in events(session)] == ["client.added"]
    assert [e for e, _, _ in events(session, "reconfirm.")] == ["reconfirm.failed"]
    done = client.post(path, data={"password": STRONG_PASSWORD, "csrf_token": csrf(client, path)})
    assert done.status_code == 200 and done.headers["cache-control"] == "no-store"
    [secret] = _SECRET.findall(done.text)
    session.expire_all()
    found = get_client(session, client_id)
    assert found is not None and secret_matches(found, secret)
    assert events(session)[-1] == (
        "client.secret_rotated",
        actor_of(runtime, session, operator),
        {"client": client_id},
    )


def test_removing_needs_the_password_again_and_is_audited(
    client: TestClient, runtime: Runtime, session: Session, operator: str
) -> None:
    client_id = make_rp(session).client_id
    session.commit()
    path = f"{PLATFORMS}/{client_id}/remove"
    assert client.post(path, data={"password": STRONG_PASSWORD}).status_code == 403
    wrong = client.post(path, data={"password": "fout", "csrf_token": csrf(client, path)})
    assert wrong.status_code == 400 and get_client(session, client_id) is not None
    done = client.post(
        path,
        data={"password": STRONG_PASSWORD, "csrf_token": csrf(client, path)},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == f"{PLATFORMS}?done=removed"
    session.expire_all()
    assert get_client(session, client_id) is None
    assert events(session) == [
        ("client.removed", actor_of(runtime, session, operator), {"client": client_id})
    ]
    assert 'role="status"' in client.get(f"{PLATFORMS}?done=removed").text
    assert client.get(f"{PLATFORMS}/{client_id}").status_code == 404


def test_an_operator_whose_role_is_revoked_loses_the_console_at_once(
    client: TestClient, runtime: Runtime, session: Session, operator: str
) -> None:
    from identity.accounts.roles import revoke_role

    assert client.get(PLATFORMS).status_code == 200
    revoke_role(session, runtime.subject_keys, operator, OPERATOR_ROLE, "operator:cli")
    session.commit()
    assert client.get(PLATFORMS).status_code == 404


def test_the_cli_grants_the_operator_role_and_audits_through_the_same_functions(
    client: TestClient, runtime: Runtime, session: Session
) -> None:
    """`kluis accounts operator grant` opens the console; `kluis clients add|rotate-secret|
    remove` write the same audit entries as the console, as `operator:cli`."""
    from click.testing import CliRunner

    from identity.accounts.cli import accounts_cli
    from identity.oidc.cli import clients_cli

    resident = make_resident(runtime, session, client, email="beheer@example.org")
    assert client.get(PLATFORMS).status_code == 404
    assert 'href="/console"' not in client.get("/account").text
    granted = CliRunner().invoke(
        accounts_cli, ["operator", "grant", "--email", "beheer@example.org"], obj=runtime
    )
    assert granted.exit_code == 0 and "is now a console operator" in granted.output
    assert client.get(PLATFORMS).status_code == 200
    assert 'href="/console"' in client.get("/account").text  # the way in, for operators only
    listed = CliRunner().invoke(accounts_cli, ["operator", "list"], obj=runtime)
    assert resident.account_id in listed.output

    def clients(*args: str) -> str:
        result = CliRunner().invoke(clients_cli, list(args), obj=runtime)
        assert result.exit_code == 0, result.output
        return result.output

    added = json.loads(
        clients("add", "--preset", "discourse", "--base-url", "https://forum.example.org", "--json")
    )
    clients("rotate-secret", added["client_id"])
    clients("remove", added["client_id"])
    assert [(e, a) for e, a, _ in events(session)] == [
        ("client.added", "operator:cli"),
        ("client.secret_rotated", "operator:cli"),
        ("client.removed", "operator:cli"),
    ]


def test_the_platform_side_settings_speak_the_page_language_and_keep_the_commands(
    client: TestClient, session: Session, operator: str
) -> None:
    """The prose after adding a platform is Dutch on the Dutch page and English on the English
    one (as `kluis clients add` prints it); the plug-in's commands are the same in both."""
    from identity.oidc.messages_platform_settings import MESSAGES, PREFIX, PRESET_NL
    from identity.oidc.presets import PRESETS

    dutch = html.unescape(add_nextcloud(client, "https://wolk.example.org"))
    assert "Installeer de app 'OpenID Connect user backend'" in dutch
    assert "het adres van Nextcloud" in dutch and "Deze plug-in kan de verwijder" in dutch
    assert "Install the app" not in dutch and "This plug-in cannot" not in dutch
    token = csrf(client, PLATFORMS)
    english = client.post(
        f"{PLATFORMS}?lang=en",
        data={"preset": "nextcloud", "base_url": "https://cloud.example.org", "csrf_token": token},
    )
    assert english.status_code == 201
    shown = html.unescape(english.text)
    assert "Install the app 'OpenID Connect user backend'" in shown
    assert "Installeer" not in shown and "Nextcloud's address" in shown
    for page in (dutch, shown):
        assert "sudo -u www-data php occ user_oidc:provider kluis" in page
    for name, preset in PRESETS.items():
        assert len(PRESET_NL[name][1]) == len(preset.notes), name
    from core.i18n import languages_of

    keys = [PREFIX + key for key in MESSAGES] + [
        f"{PREFIX}preset.{name}.base_url_is" for name in PRESETS
    ]
    assert keys and all(languages_of(key) == {"nl", "en"} for key in keys)


def test_the_platform_side_prose_is_for_operators_and_commands_stay_whole(
    client: TestClient, session: Session, operator: str
) -> None:
    """What an operator reads after adding a platform: no remarks about how the preset was
    tested, no Markdown, and each command in a block of its own (it scrolls there at 375 px
    rather than breaking inside a token)."""
    from identity.oidc.messages_platform_settings import MESSAGES, PRESET_NL
    from identity.oidc.presets import PRESETS

    prose = [text for texts in MESSAGES.values() for text in texts.values()]
    prose += [note for name, preset in PRESETS.items() for note in preset.notes]
    prose += [note for _, notes in PRESET_NL.values() for note in notes]
    for text in prose:
        assert "`" not in text, text
        for remark in ("not run", "niet uitgevoerd", "the test", "Nagegaan", "Checked against"):
            assert remark not in text, text
    page = html.unescape(add_nextcloud(client, "https://wolk.example.org"))
    [instructions] = re.findall(r'<div id="instructions">(.*?)</div>', page, re.S)
    blocks = re.findall(r"<pre class=\"settings\"[^>]*>(.*?)</pre>", instructions, re.S)
    assert [block.splitlines()[0] for block in blocks] == [
        "sudo -u www-data php occ user_oidc:provider kluis \\"
    ]
    assert "<p>Installeer de app" in instructions
    assert "<p>Of in Beheerdersinstellingen" in instructions
    assert "Let op:" not in page and "Kanttekening" not in page  # Nextcloud needs no note
