"""A minimal Django project that logs residents in with mozilla-django-oidc (PyPI), unchanged,
configured as docs/platforms/django.md says; run by tests/e2e/platforms/test_django.py with
`python -m django runserver` and the settings below (DJANGO_SETTINGS_MODULE)."""
