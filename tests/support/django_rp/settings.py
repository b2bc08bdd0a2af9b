"""Django settings of the test platform. Everything site-specific comes from the environment,
the way an operator deploys it: the endpoints are copied from Kluis's discovery document
(mozilla-django-oidc does not read it), the client from `kluis clients add`."""

from __future__ import annotations

import os

env = os.environ

SECRET_KEY = env["DJANGO_SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
ROOT_URLCONF = "tests.support.django_rp.urls"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": env["DJANGO_DATABASE"]}}
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "mozilla_django_oidc",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # re-asks Kluis (prompt=none) when the ID token is older than the renewal interval
    "mozilla_django_oidc.middleware.SessionRefresh",
]
# Kluis serves on the same host in the tests: distinct cookie names keep the jars apart.
SESSION_COOKIE_NAME = "platform_session"
CSRF_COOKIE_NAME = "platform_csrf"

AUTHENTICATION_BACKENDS = ["tests.support.django_rp.backend.KluisBackend"]
LOGIN_URL = "/oidc/authenticate/"
LOGIN_REDIRECT_URL = "/me/"
LOGIN_REDIRECT_URL_FAILURE = "/signed-out/"
LOGOUT_REDIRECT_URL = "/signed-out/"

OIDC_RP_CLIENT_ID = env["OIDC_RP_CLIENT_ID"]
OIDC_RP_CLIENT_SECRET = env["OIDC_RP_CLIENT_SECRET"]
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_RP_SCOPES = "openid email profile"
OIDC_OP_AUTHORIZATION_ENDPOINT = env["OIDC_OP_AUTHORIZATION_ENDPOINT"]
OIDC_OP_TOKEN_ENDPOINT = env["OIDC_OP_TOKEN_ENDPOINT"]
OIDC_OP_USER_ENDPOINT = env["OIDC_OP_USER_ENDPOINT"]
OIDC_OP_JWKS_ENDPOINT = env["OIDC_OP_JWKS_ENDPOINT"]
OIDC_USE_PKCE = True
OIDC_PKCE_CODE_CHALLENGE_METHOD = "S256"
OIDC_STORE_ID_TOKEN = True  # the id_token_hint of the logout request
OIDC_OP_LOGOUT_ENDPOINT = env["OIDC_OP_LOGOUT_ENDPOINT"]
OIDC_OP_LOGOUT_URL_METHOD = "tests.support.django_rp.backend.kluis_logout_url"
OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS = int(env.get("OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS", "900"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "django": {"handlers": ["console"], "level": "WARNING"},
        "mozilla_django_oidc": {"handlers": ["console"], "level": "INFO"},
    },
}
