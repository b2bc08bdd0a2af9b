"""Resident accounts: registration, e-mail verification, password login, browser sessions."""
