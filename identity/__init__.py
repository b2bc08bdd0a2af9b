"""Kluis: identity."""
