"""Editing a platform's addresses and name, as operators do it from `kluis clients update` and
from the console at /console/platforms/{id}/edit alike (#16): the redirect URIs, the addresses
residents may be sent to after logout, the back-channel logout URI, the events URI and the name
residents see. Every problem is found before anything changes, and named per field (a code and
the value it concerns), so a form can show it beside the field and the CLI can print it.

Redirect URIs stay on the platform's sector (its host, or its sector_identifier_uri document):
a platform's pairwise subject identifiers are derived from the sector, so moving them would
give every resident a new identity there (OIDC Core §8.1). The audit entry names the fields
that changed, never their values."""

from __future__ import annotations

import dataclasses
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from audit import record
from identity.oidc.clients import uri_problem
from identity.oidc.errors import InvalidClientMetadata
from identity.oidc.models import Client

MAX_NAME = 200
MAX_URI = 2000
MAX_URIS = 20
FIELDS = (
    "name",
    "redirect_uris",
    "post_logout_redirect_uris",
    "backchannel_logout_uri",
    "events_uri",
)
TEXTS = {
    "required": "is required",
    "too_long": "is too long",
    "too_many": f"may list at most {MAX_URIS} addresses",
    "fragment": "must not contain a fragment (#…)",
    "absolute": "must be an absolute https URL",
    "https": "must use https (http only for loopback addresses)",
    "credentials": "must not contain a user name or password",
    "sector": "must stay on the platform's host {host} (its residents' pseudonyms depend on it)",
    "sector_document": "are fixed by the platform's sector_identifier_uri document",
}


@dataclasses.dataclass(frozen=True)
class PlatformEdit:
    name: str
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]
    backchannel_logout_uri: str | None
    events_uri: str | None


@dataclasses.dataclass(frozen=True)
class Problem:
    code: str  # a key of TEXTS
    value: str = ""  # the address it concerns, if one


class PlatformEditRefused(InvalidClientMetadata):
    """The edit cannot be made as given; `problems` says why, per field."""

    def __init__(self, problems: dict[str, Problem], host: str) -> None:
        self.problems = problems
        self.host = host
        super().__init__("; ".join(describe_problem(f, p, host) for f, p in problems.items()))


def describe_problem(field: str, problem: Problem, host: str = "") -> str:
    text = f"{field} {TEXTS[problem.code].format(host=host)}"
    return f"{text}: {problem.value}" if problem.value else text


def _uris_problem(
    uris: tuple[str, ...], *, required: bool, allow_http_loopback: bool
) -> Problem | None:
    if required and not uris:
        return Problem("required")
    if len(uris) > MAX_URIS:
        return Problem("too_many")
    for uri in uris:
        if len(uri) > MAX_URI:
            return Problem("too_long", uri[:60] + "…")
        code = uri_problem(uri, allow_http_loopback=allow_http_loopback)
        if code is not None:
            return Problem(code, uri)
    return None


def edit_problems(
    client: Client, edit: PlatformEdit, *, allow_loopback_targets: bool = True
) -> dict[str, Problem]:
    """What is wrong with `edit`, per field (empty: it can be made)."""
    found: dict[str, Problem | None] = {
        "name": Problem("required")
        if not edit.name.strip()
        else Problem("too_long")
        if len(edit.name.strip()) > MAX_NAME
        else None,
        "redirect_uris": _uris_problem(edit.redirect_uris, required=True, allow_http_loopback=True),
        "post_logout_redirect_uris": _uris_problem(
            edit.post_logout_redirect_uris, required=False, allow_http_loopback=True
        ),
    }
    for field in ("backchannel_logout_uri", "events_uri"):
        value: str | None = getattr(edit, field)
        found[field] = _uris_problem(
            (value,) if value else (), required=False, allow_http_loopback=allow_loopback_targets
        )
    if found["redirect_uris"] is None and list(edit.redirect_uris) != list(client.redirect_uris):
        if client.sector_identifier_uri:
            found["redirect_uris"] = Problem("sector_document")
        else:
            elsewhere = [
                u for u in edit.redirect_uris if urlsplit(u).hostname != client.sector_identifier
            ]
            if elsewhere:
                found["redirect_uris"] = Problem("sector", elsewhere[0])
    return {field: problem for field, problem in found.items() if problem is not None}


def edit_platform(
    session: Session,
    client: Client,
    edit: PlatformEdit,
    actor: str,
    *,
    allow_loopback_targets: bool = True,
) -> list[str]:
    """Make the edit and audit it (`client.updated`, the changed fields' names); returns the
    fields that changed. `PlatformEditRefused` (and nothing changed) when it cannot be made."""
    problems = edit_problems(client, edit, allow_loopback_targets=allow_loopback_targets)
    if problems:
        raise PlatformEditRefused(problems, client.sector_identifier)
    wanted = {
        "name": edit.name.strip(),
        "redirect_uris": list(edit.redirect_uris),
        "post_logout_redirect_uris": list(edit.post_logout_redirect_uris),
        "backchannel_logout_uri": edit.backchannel_logout_uri or None,
        "events_uri": edit.events_uri or None,
    }
    changed = [field for field in FIELDS if getattr(client, field) != wanted[field]]
    if not changed:
        return []
    for field in changed:
        setattr(client, field, wanted[field])
    session.flush()
    record(session, "client.updated", actor, None, {"client": client.client_id, "changed": changed})
    return changed


def current_edit(client: Client) -> PlatformEdit:
    """The platform as it is, as an edit (what a form starts from)."""
    return PlatformEdit(
        name=client.name,
        redirect_uris=tuple(client.redirect_uris),
        post_logout_redirect_uris=tuple(client.post_logout_redirect_uris),
        backchannel_logout_uri=client.backchannel_logout_uri,
        events_uri=client.events_uri,
    )
