"""The OpenID Connect provider."""
