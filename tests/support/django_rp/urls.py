"""The platform's pages: mozilla-django-oidc's own views under /oidc/, and three of its own."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.urls import include, path
from django.utils.html import escape


def home(request: HttpRequest) -> HttpResponse:
    return HttpResponse('<a id="sign-in" href="/oidc/authenticate/">Inloggen met Kluis</a>')


@login_required
def me(request: HttpRequest) -> JsonResponse:
    user = request.user
    return JsonResponse(
        {
            "id": user.pk,
            "username": user.get_username(),
            "email": user.email,
            "first_name": user.first_name,
            "users": get_user_model().objects.count(),
            "has_id_token": "oidc_id_token" in request.session,
        }
    )


@login_required
def account(request: HttpRequest) -> HttpResponse:
    token = escape(get_token(request))
    return HttpResponse(
        '<form id="logout-form" method="post" action="/oidc/logout/">'
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{token}">'
        "<button>Uitloggen</button></form>"
    )


def signed_out(request: HttpRequest) -> HttpResponse:
    return HttpResponse("<p>Je bent uitgelogd.</p>")


urlpatterns = [
    path("", home),
    path("me/", me),
    path("account/", account),
    path("signed-out/", signed_out),
    path("oidc/", include("mozilla_django_oidc.urls")),
]
