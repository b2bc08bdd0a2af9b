"""Outgoing mail: verification links, password resets, activation notices.

`Mailer` is the small protocol the domain depends on. `SmtpMailer` delivers through an SMTP
relay (STARTTLS by default); `FileOutbox` writes each message as an `.eml` file for
development and tests, and says loudly that nothing is actually sent. Neither ever logs a
recipient address or a message body: both hold personal data or one-time links.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import time
import uuid
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import SMTP as SMTP_POLICY
from email.policy import default as default_policy
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Protocol, runtime_checkable

log = logging.getLogger("kluis.mail")

SMTP_TIMEOUT_S = 15.0


@runtime_checkable
class Mailer(Protocol):
    def send(self, to: str, subject: str, body: str) -> None:
        """Deliver a plain-text message to one recipient, or raise."""
        ...


def compose(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain="kluis.invalid")
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
    message.set_content(body)
    return message


@runtime_checkable
class ForgetsRecipients(Protocol):
    """A mailer that keeps copies of what it sent and can delete a recipient's (erasure)."""

    def forget_recipient(self, to: str) -> int:
        """Delete every kept message to `to`; returns how many."""
        ...


class SmtpMailer:
    """Delivers through an SMTP relay, upgrading the connection with STARTTLS (verified
    certificate) before authenticating."""

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        username: str = "",
        password: str = "",
        starttls: bool = True,
        timeout: float = SMTP_TIMEOUT_S,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.username = username
        self._password = password
        self.starttls = starttls
        self.timeout = timeout
        if not starttls:
            log.warning("SMTP without STARTTLS: mail leaves this host unencrypted")

    def send(self, to: str, subject: str, body: str) -> None:
        message = compose(self.sender, to, subject, body)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            smtp.ehlo()
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if self.username:
                smtp.login(self.username, self._password)
            smtp.send_message(message)
        log.info("mail sent", extra={"transport": "smtp"})


class FileOutbox:
    """Development mailer: writes each message to `directory` as an `.eml` file."""

    def __init__(self, directory: Path, sender: str) -> None:
        self.directory = directory
        self.sender = sender
        directory.mkdir(parents=True, exist_ok=True)

    def announce(self) -> None:
        """Say once, when the service starts, that mail is not delivered (not on every CLI
        call, which builds a mailer too)."""
        log.warning(
            "development mail outbox in use: mail is written to files, not sent",
            extra={"outbox": str(self.directory), "hint": "set KLUIS_SMTP_HOST to deliver mail"},
        )

    def send(self, to: str, subject: str, body: str) -> None:
        message = compose(self.sender, to, subject, body)
        # time-ordered names (ns clock + random tail); write then rename so readers never
        # see half a message
        name = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.eml"
        partial = self.directory / (name + ".part")
        partial.write_bytes(message.as_bytes(policy=SMTP_POLICY))
        os.replace(partial, self.directory / name)
        log.info("mail written to outbox", extra={"transport": "file", "file": name})

    def messages(self) -> list[EmailMessage]:
        """Every message in the outbox, oldest first."""
        return read_outbox(self.directory)

    def forget_recipient(self, to: str) -> int:
        """Delete every message addressed to `to` (GDPR Art. 17: the development outbox must
        not keep an erased resident's address). Matches the parsed To header, so a file is
        found whatever its name; unreadable files are left alone."""
        wanted = to.strip().lower()
        parser = BytesParser(policy=default_policy)
        removed = 0
        for path in sorted(self.directory.glob("*.eml")):
            try:
                message = parser.parsebytes(path.read_bytes(), headersonly=True)
            except (OSError, ValueError):
                continue
            recipients = [a.addr_spec.lower() for a in getattr(message["To"], "addresses", ())]
            if wanted in recipients:
                path.unlink(missing_ok=True)
                removed += 1
        if removed:
            log.info("erased recipient's mail removed from outbox", extra={"files": removed})
        return removed


def read_outbox(directory: Path) -> list[EmailMessage]:
    parser = BytesParser(policy=default_policy)
    return [parser.parsebytes(path.read_bytes()) for path in sorted(directory.glob("*.eml"))]
