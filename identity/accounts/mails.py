"""The mails the accounts package sends, in the resident's page language. Texts live in the
message catalogue (`identity.accounts.messages`)."""

from __future__ import annotations

from adapters import Mailer
from core import translate
from identity.accounts import messages  # noqa: F401 (registers the texts)


def _send(mailer: Mailer, to: str, lang: str, kind: str, **params: object) -> None:
    subject = translate(lang, f"accounts.mail.{kind}.subject")
    body = translate(lang, f"accounts.mail.{kind}.body", **params)
    mailer.send(to, subject, body + "\n\n" + translate(lang, "accounts.mail.signature"))


def send_verification(mailer: Mailer, to: str, link: str, lang: str) -> None:
    _send(mailer, to, lang, "verify", link=link)


def send_already_registered(mailer: Mailer, to: str, issuer: str, lang: str) -> None:
    _send(
        mailer,
        to,
        lang,
        "already_registered",
        login=f"{issuer}/login",
        reset=f"{issuer}/password/forgot",
    )


def send_password_reset(mailer: Mailer, to: str, link: str, minutes: int, lang: str) -> None:
    _send(mailer, to, lang, "reset", link=link, minutes=minutes)
