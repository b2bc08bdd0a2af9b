"""The desk's form page (`desk/index.html`), shared by the desk's routers (`routes_desk`,
and `routes_vouching` for the desk's neighbour-confirmation form)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from core import render

NO_STORE = {"Cache-Control": "no-store"}  # codes for residents: not for any cache


def _field_id(form_type: str, name: str) -> str:
    """The id of the desk page's input that holds `name` in the `form_type` form (the resident
    field and the document box are in several forms, so their ids name the form)."""
    if name == "resident":
        return f"{form_type}-resident"
    if name == "document_checked":
        return f"{form_type}-document"
    return name


def render_desk(
    request: Request,
    form_type: str | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    """The desk; after a refused form, with its errors beside their fields and, first on the
    page, a summary whose links lead to those fields."""
    errors = errors or {}
    summary = {_field_id(form_type or "", name): key for name, key in errors.items()}
    context = {
        "form_type": form_type,
        "errors": errors,
        "summary": summary,
        "values": values or {},
    }
    response = render(request, "desk/index.html", context, status_code=status_code)
    response.headers.update(NO_STORE)
    return response
