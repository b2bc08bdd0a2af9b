"""Kluis: adapters."""

from adapters import outbox
from adapters.fetch import Fetcher, FetchError, HttpFetcher
from adapters.mail import FileOutbox, ForgetsRecipients, Mailer, SmtpMailer
from adapters.outbox import Delivery, Outbox, Renderer, enqueue

__all__ = [
    "Delivery",
    "FetchError",
    "Fetcher",
    "FileOutbox",
    "ForgetsRecipients",
    "HttpFetcher",
    "Mailer",
    "Outbox",
    "Renderer",
    "SmtpMailer",
    "enqueue",
    "outbox",
]
