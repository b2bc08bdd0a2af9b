"""Kluis: adapters."""
