"""The two hooks mozilla-django-oidc leaves to the site: how a Kluis resident maps to a Django
user, and the URL of Kluis's end-session endpoint at logout."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest
from mozilla_django_oidc.auth import OIDCAuthenticationBackend


class KluisBackend(OIDCAuthenticationBackend):
    """Users are keyed by `sub`, Kluis's pairwise pseudonym for this platform: stable, while
    the e-mail address may change or be withheld. The other fields follow the claims the
    resident consented to, on every login."""

    def filter_users_by_claims(self, claims: dict[str, Any]) -> Any:
        sub = claims.get("sub")
        if not sub:
            return self.UserModel.objects.none()
        return self.UserModel.objects.filter(username=sub)

    def create_user(self, claims: dict[str, Any]) -> Any:
        user = self.UserModel.objects.create_user(username=claims["sub"])
        return self.update_user(user, claims)

    def update_user(self, user: Any, claims: dict[str, Any]) -> Any:
        user.email = claims.get("email", "")
        user.first_name = claims.get("name", "")[:150]
        user.save()
        return user


def kluis_logout_url(request: HttpRequest) -> str:
    """OIDC RP-Initiated Logout 1.0 §2: with the ID token as hint Kluis ends the session without
    asking again, and returns to LOGOUT_REDIRECT_URL (registered as post_logout_redirect_uri)."""
    params = {
        "client_id": settings.OIDC_RP_CLIENT_ID,
        "post_logout_redirect_uri": request.build_absolute_uri(settings.LOGOUT_REDIRECT_URL),
    }
    id_token = request.session.get("oidc_id_token")
    if id_token:
        params["id_token_hint"] = id_token
    return f"{settings.OIDC_OP_LOGOUT_ENDPOINT}?{urlencode(params)}"
