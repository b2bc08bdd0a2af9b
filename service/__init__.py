"""Kluis: service."""
