"""Kluis: consent."""
