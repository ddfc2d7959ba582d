"""Notification settings, from FANGFEI_* variables (fangfei.config.Settings.extra). A channel
without its settings is off: nothing is queued for it (the inbox is always on).

| variable | default | meaning |
|---|---|---|
| FANGFEI_SMTP_HOST / _PORT | (off) / 25 | SMTP server for e-mail |
| FANGFEI_SMTP_FROM | fangfei-noreply@localhost | sender address (its domain names Message-IDs) |
| FANGFEI_SMTP_USER / _PASSWORD / _STARTTLS | | optional login, STARTTLS when 1 |
| FANGFEI_SMS_GATEWAY_URL / _TOKEN | (off) | HTTP SMS gateway (channels/sms.py) |
| FANGFEI_NOTIFY_MAX_ATTEMPTS | 10 | attempts before a delivery is dead-lettered |
| FANGFEI_NOTIFY_BACKOFF_MS / _MAX_MS | 2000 / 600000 | first retry delay, doubling up to the cap |
| FANGFEI_NOTIFY_SEND_TIMEOUT_S | 10 | per send |
| FANGFEI_NOTIFY_LEASE_S | 30 | a row being sent is not picked up again for this long (> send timeout) |
| FANGFEI_NOTIFY_DRAIN_INTERVAL_MS | 500 | how often each channel's worker looks for due rows |
| FANGFEI_NOTIFY_DIGEST_AT | 08:00 | daily digest time, Asia/Shanghai |
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from .channels.email import SmtpSettings
from .channels.sms import SmsSettings


@dataclass(frozen=True)
class NotifyConfig:
    smtp: SmtpSettings | None = None
    sms: SmsSettings | None = None
    max_attempts: int = 10
    backoff_s: float = 2.0
    backoff_max_s: float = 600.0
    send_timeout_s: float = 10.0
    lease_s: float = 30.0
    digest_at: tuple[int, int] = (8, 0)

    def delay(self, attempts: int) -> float:
        """Seconds before attempt `attempts + 1`: doubling from `backoff_s`, capped."""
        return min(self.backoff_s * (2 ** max(0, attempts - 1)), self.backoff_max_s)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "NotifyConfig":
        timeout = float(env.get("FANGFEI_NOTIFY_SEND_TIMEOUT_S", "10"))
        smtp = None
        if env.get("FANGFEI_SMTP_HOST"):
            smtp = SmtpSettings(
                host=env["FANGFEI_SMTP_HOST"], port=int(env.get("FANGFEI_SMTP_PORT", "25")),
                sender=env.get("FANGFEI_SMTP_FROM", "fangfei-noreply@localhost"),
                user=env.get("FANGFEI_SMTP_USER", ""), password=env.get("FANGFEI_SMTP_PASSWORD", ""),
                starttls=env.get("FANGFEI_SMTP_STARTTLS", "") == "1", timeout_s=timeout)
        sms = None
        if env.get("FANGFEI_SMS_GATEWAY_URL"):
            sms = SmsSettings(env["FANGFEI_SMS_GATEWAY_URL"], env.get("FANGFEI_SMS_GATEWAY_TOKEN", ""), timeout)
        hh, _, mm = env.get("FANGFEI_NOTIFY_DIGEST_AT", "08:00").partition(":")
        return cls(
            smtp=smtp, sms=sms,
            max_attempts=max(1, int(env.get("FANGFEI_NOTIFY_MAX_ATTEMPTS", "10"))),
            backoff_s=int(env.get("FANGFEI_NOTIFY_BACKOFF_MS", "2000")) / 1000.0,
            backoff_max_s=int(env.get("FANGFEI_NOTIFY_BACKOFF_MAX_MS", "600000")) / 1000.0,
            send_timeout_s=timeout,
            lease_s=float(env.get("FANGFEI_NOTIFY_LEASE_S", "30")),
            digest_at=(int(hh), int(mm or 0)),
        )
