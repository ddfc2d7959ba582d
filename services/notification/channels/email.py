"""E-mail over SMTP (smtplib, green under eventlet). The Message-ID is derived from the delivery
id, so a message sent twice after a crash is recognisably the same message (mail stores and the
acceptance test drop the second copy by Message-ID)."""

from __future__ import annotations

import smtplib
import socket
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any, Mapping

from .base import SendFailed


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 25
    sender: str = "fangfei-noreply@localhost"
    user: str = ""
    password: str = ""
    starttls: bool = False
    timeout_s: float = 10.0


def message_id(delivery_id: str, sender: str) -> str:
    domain = sender.rsplit("@", 1)[-1] or "fangfei.local"
    return f"<{delivery_id}@{domain}>"


def build_message(row: Mapping[str, Any], settings: SmtpSettings) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.sender
    msg["To"] = row["address"]
    msg["Subject"] = row["subject"]
    msg["Message-ID"] = message_id(row["delivery_id"], settings.sender)
    msg["Date"] = formatdate(localtime=False)
    msg["X-Fangfei-Delivery"] = row["delivery_id"]
    msg.set_content(row["body"])
    return msg


class EmailChannel:
    name = "email"

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def send(self, row: Mapping[str, Any]) -> None:
        s = self.settings
        try:
            with smtplib.SMTP(s.host, s.port, timeout=s.timeout_s) as smtp:
                if s.starttls:
                    smtp.starttls()
                if s.user:
                    smtp.login(s.user, s.password)
                smtp.send_message(build_message(row, s))
        except smtplib.SMTPRecipientsRefused as exc:
            raise SendFailed("SMTPRecipientsRefused", permanent=True) from exc
        except (smtplib.SMTPException, socket.timeout, OSError) as exc:
            raise SendFailed(type(exc).__name__) from exc


__all__ = ["EmailChannel", "SmtpSettings", "build_message", "message_id"]
