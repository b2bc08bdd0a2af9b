from __future__ import annotations

import inspect
import logging
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pydantic import SecretStr

from adapters.mail import FileOutbox, Mailer, SmtpMailer
from service.runtime import build_mailer
from tests.conftest import make_settings

TO = "klaas.vaessen@example.org"


@pytest.mark.parametrize("implementation", [SmtpMailer, FileOutbox])
def test_each_mailer_takes_the_protocol_s_calls_with_the_same_signature(
    implementation: type,
) -> None:
    # isinstance() against a Protocol compares method names only; the callers depend on the
    # parameters too (adapters.mail.Mailer.send(to, subject, body) -> None)
    members = [n for n in vars(Mailer) if not n.startswith("_") and callable(vars(Mailer)[n])]
    assert members == ["send"]
    for name in members:
        want = inspect.signature(getattr(Mailer, name))
        got = inspect.signature(getattr(implementation, name))
        assert list(got.parameters.items()) == list(want.parameters.items())
        assert got.return_annotation == want.return_annotation


def test_file_outbox_warns_when_announced_not_when_built_and_writes_eml_files(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="kluis.mail"):
        outbox = FileOutbox(tmp_path / "outbox", "Kluis <noreply@kluis.invalid>")
        assert not any("not sent" in r.getMessage() for r in caplog.records)  # every CLI call
        outbox.announce()  # kluis serve, once
        assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
            "development mail outbox in use: mail is written to files, not sent"
        ]
        outbox.send(TO, "Bevestig je e-mailadres", "Hallo,\n\nklik: https://kluis.invalid/x\n")
        outbox.send(TO, "Tweede", "nog een")
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 2 and not list((tmp_path / "outbox").glob("*.part"))
    first, second = outbox.messages()
    assert first["To"] == TO and first["Subject"] == "Bevestig je e-mailadres"
    assert first["Message-ID"] and first["Date"] and first["Auto-Submitted"] == "auto-generated"
    assert second["Subject"] == "Tweede"
    body = first.get_body(("plain",))
    assert body is not None and "https://kluis.invalid/x" in body.get_content()
    # the recipient never reaches the log
    assert all(TO not in r.getMessage() and TO not in str(r.__dict__) for r in caplog.records)


class FakeSMTP:
    instances: ClassVar[list[FakeSMTP]] = []

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.address = (host, port)
        self.calls: list[str] = []
        self.sent: list[EmailMessage] = []
        self.context: ssl.SSLContext | None = None
        FakeSMTP.instances.append(self)

    def __enter__(self) -> FakeSMTP:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.calls.append("quit")

    def ehlo(self) -> None:
        self.calls.append("ehlo")

    def starttls(self, context: ssl.SSLContext) -> None:
        self.calls.append("starttls")
        self.context = context

    def login(self, user: str, password: str) -> None:
        self.calls.append(f"login:{user}:{password}")

    def send_message(self, message: EmailMessage) -> None:
        self.calls.append("send")
        self.sent.append(message)


def test_smtp_mailer_upgrades_to_verified_tls_before_authenticating(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    FakeSMTP.instances.clear()
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    mailer = SmtpMailer(
        "smtp.example.org", 587, "Kluis <noreply@example.org>", username="kluis", password="pw"
    )
    mailer.send(TO, "Onderwerp", "Tekst")
    (smtp,) = FakeSMTP.instances
    assert smtp.address == ("smtp.example.org", 587)
    assert smtp.calls == ["ehlo", "starttls", "ehlo", "login:kluis:pw", "send", "quit"]
    assert smtp.context is not None and smtp.context.verify_mode == ssl.CERT_REQUIRED
    assert smtp.sent[0]["To"] == TO and smtp.sent[0]["From"] == "Kluis <noreply@example.org>"


def test_runtime_picks_smtp_when_configured_and_the_outbox_otherwise(tmp_path: Path) -> None:
    development = make_settings(tmp_path, "sqlite://")
    outbox = build_mailer(development)
    assert isinstance(outbox, FileOutbox) and outbox.directory == tmp_path / "outbox"
    configured = make_settings(
        tmp_path,
        "sqlite://",
        smtp_host="smtp.example.org",
        smtp_username="kluis",
        smtp_password=SecretStr("pw"),
    )
    smtp = build_mailer(configured)
    assert isinstance(smtp, SmtpMailer) and smtp.host == "smtp.example.org" and smtp.starttls


def test_file_outbox_forgets_every_message_to_one_recipient_only(tmp_path: Path) -> None:
    outbox = FileOutbox(tmp_path, "Kluis <noreply@kluis.invalid>")
    outbox.send(TO, "een", "1")
    outbox.send("Klaas Vaessen <KLAAS.vaessen@example.org>", "twee", "2")
    outbox.send("someone.else@example.org", "drie", "3")
    (tmp_path / "broken.eml").write_bytes(b"\xff\xfe not a message")
    assert outbox.forget_recipient(TO) == 2
    remaining = [m["Subject"] for m in outbox.messages() if m["Subject"]]
    assert remaining == ["drie"]
    assert TO.encode() not in b"".join(p.read_bytes() for p in tmp_path.glob("*.eml"))
    assert outbox.forget_recipient(TO) == 0


def test_only_the_file_outbox_keeps_mail_to_forget(tmp_path: Path) -> None:
    from adapters.mail import ForgetsRecipients

    assert isinstance(FileOutbox(tmp_path, "k@kluis.invalid"), ForgetsRecipients)
    assert not isinstance(SmtpMailer("smtp.invalid", 587, "k@kluis.invalid"), ForgetsRecipients)
