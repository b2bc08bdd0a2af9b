"""Shared plumbing that every Kluis package may use: database base classes, error types,
internationalisation, templates, logging and canonical JSON.

It sits at the bottom of the dependency graph (it imports no other Kluis package), so that
`identity`, `attestations` and `consent` can share it without reaching into `service`, the
composition root they must never import.
"""
