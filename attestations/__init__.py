"""Kluis: attestations."""
