"""Channel senders: e-mail over SMTP, a signed JSON webhook, Telegram Bot API and Zalo OA text messages."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import smtplib
import ssl
import threading
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import httpx

from ioc.alerts import AlertRecord
from ioc.config import resolve_path
from ioc.credentials import CredentialError, read_secret, redact
from ioc.i18n import t
from ioc.notifications.config import Channel, SmtpChannel, TelegramChannel, WebhookChannel, ZaloChannel
from ioc.privacy import scrub_text

ERROR_CHARS = 300


class DeliveryError(Exception):
    """A send failed; `retry` says whether trying again later may help, `retry_after` when the server said."""

    def __init__(self, message: str, *, retry: bool, retry_after: float | None = None) -> None:
        super().__init__(redact(message)[:ERROR_CHARS])
        self.retry, self.retry_after = retry, retry_after


@dataclass(frozen=True, slots=True)
class Message:
    """What one notification says. Alert facts only (title, severity, sector, area): no citizen's data."""

    id: str
    subject: str
    text: str
    data: dict[str, Any] = field(default_factory=dict)


# the message's own words; severity names are the control room's (ioc/locales)
WORDS: dict[str, dict[str, str]] = {
    "vi": {"area": "Khu vực", "raised": "Phát sinh", "new": "cảnh báo mới, chưa ai xác nhận",
           "waiting": "chưa ai xác nhận sau {minutes:g} phút", "reminder": "nhắc lại lần {n}", "status": "Tình trạng"},
    "en": {"area": "Area", "raised": "Raised", "new": "new alert, not acknowledged",
           "waiting": "not acknowledged for {minutes:g} min", "reminder": "reminder {n}", "status": "Status"},
}


def compose(notification_id: str, record: AlertRecord, *, city: str, step: int, repeat: int, after_minutes: float,
            person: str, zone: ZoneInfo, language: str = "vi") -> Message:
    words = WORDS.get(language, WORDS["vi"])
    alert = record.alert
    # titles are built from rule titles and places, but a relayed warning's may quote its source: scrubbed
    title = scrub_text(alert.title)
    place = scrub_text(record.place or alert.district or "")
    severity = t(f"control_room.severity.{alert.severity}", language)
    raised = alert.raised_at.astimezone(zone).strftime("%H:%M %d/%m/%Y") if alert.raised_at else ""
    waiting = words["waiting"].format(minutes=after_minutes) if after_minutes else words["new"]
    if repeat:
        waiting += ", " + words["reminder"].format(n=repeat)
    subject = f"[IOC {city}] {severity}: {title}"
    lines = [f"{alert.id} · {severity} · {alert.sector}", title]
    if place:
        lines.append(f"{words['area']}: {place}")
    lines += [f"{words['raised']}: {raised}", f"{words['status']}: {waiting}"]
    data = {
        "id": notification_id,
        "alert": {"id": alert.id, "title": title, "severity": str(alert.severity), "sector": alert.sector,
                  "agency": alert.agency, "area": place or None, "state": str(alert.state),
                  "raised_at": alert.raised_at.isoformat() if alert.raised_at else None},
        "recipient": person,
        "step": step,
        "repeat": repeat,
        "text": "\n".join(lines),
    }
    return Message(id=notification_id, subject=subject, text="\n".join(lines), data=data)


class Sender(Protocol):
    def send(self, message: Message, address: str) -> None: ...

    def close(self) -> None: ...


def _http_failure(response: httpx.Response, what: str) -> DeliveryError:
    retry_after: float | None = None
    header = response.headers.get("retry-after", "")
    if header.isdigit():
        retry_after = float(header)
    # 408, 429 and 5xx are the server's passing trouble; any other 4xx will not change by itself
    retry = response.status_code in (408, 425, 429) or response.status_code >= 500
    return DeliveryError(f"{what}: HTTP {response.status_code} {response.text[:160]}", retry=retry,
                         retry_after=retry_after)


class SmtpSender:
    """One SMTP connection per delivery thread, kept open between messages (a relay's TLS handshake and
    login cost more than the message) and opened again when the server dropped it."""

    def __init__(self, channel: SmtpChannel, name: str) -> None:
        self.channel, self.name = channel, name
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: list[smtplib.SMTP] = []
        self._login: tuple[str, str] | None = None
        if channel.password is not None:
            user = channel.username if isinstance(channel.username, str) else (
                read_secret(channel.username, f"channel {name}: username") if channel.username else "")
            self._login = (user or "", read_secret(channel.password, f"channel {name}: password"))

    def _connect(self) -> smtplib.SMTP:
        c = self.channel
        # always verified: a city relay with its own CA names it in ca_file rather than switching checks off
        context = ssl.create_default_context(cafile=str(resolve_path(c.ca_file)) if c.ca_file else None)
        if c.security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(c.host, c.port, timeout=c.timeout, context=context)
        else:
            smtp = smtplib.SMTP(c.host, c.port, timeout=c.timeout)
            if c.security == "starttls":
                smtp.starttls(context=context)
        if self._login is not None:
            smtp.login(*self._login)
        with self._lock:
            self._open.append(smtp)
        return smtp

    def send(self, message: Message, address: str) -> None:
        email = EmailMessage()
        email["From"] = self.channel.sender
        email["To"] = address
        email["Subject"] = message.subject
        email["Date"] = format_datetime(datetime.now().astimezone())
        # the same notification sent twice (a worker dying after the send) carries the same Message-ID
        email["Message-ID"] = f"<{message.id}@{self.channel.sender.split('@')[1]}>"
        email.set_content(message.text)
        for attempt in (1, 2):
            smtp = getattr(self._local, "smtp", None)
            try:
                if smtp is None:
                    smtp = self._local.smtp = self._connect()
                smtp.send_message(email)
                return
            except smtplib.SMTPRecipientsRefused as exc:
                codes = [code for code, _ in exc.recipients.values()]
                raise DeliveryError(f"{self.name}: recipient refused ({codes})",
                                    retry=all(400 <= code < 500 for code in codes)) from None
            except smtplib.SMTPServerDisconnected as exc:
                self._forget()
                if attempt == 2:
                    raise DeliveryError(f"{self.name}: server disconnected: {exc}", retry=True) from None
            except smtplib.SMTPResponseException as exc:
                self._forget()
                raise DeliveryError(f"{self.name}: SMTP {exc.smtp_code} {exc.smtp_error!r}",
                                    retry=exc.smtp_code < 500) from None
            except (OSError, smtplib.SMTPException) as exc:
                self._forget()
                raise DeliveryError(f"{self.name}: {type(exc).__name__}: {exc}", retry=True) from None

    def _forget(self) -> None:
        smtp = getattr(self._local, "smtp", None)
        self._local.smtp = None
        if smtp is not None:
            with contextlib.suppress(OSError):
                smtp.close()

    def close(self) -> None:
        with self._lock:
            connections, self._open = self._open, []
        for smtp in connections:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()


class _HttpSender:
    def __init__(self, timeout: float, http: httpx.Client | None) -> None:
        self._own = http is None
        self.http = http or httpx.Client(timeout=timeout, limits=httpx.Limits(max_connections=16))

    def _post(self, url: str, what: str, **kwargs: Any) -> httpx.Response:
        try:
            return self.http.post(url, **kwargs)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{what}: {type(exc).__name__}: {exc}", retry=True) from None

    def close(self) -> None:
        if self._own:
            self.http.close()


class WebhookSender(_HttpSender):
    """POST of the notification as JSON; `Idempotency-Key` is the notification id, so a receiver can drop a
    repeat, and `X-IOC-Signature: sha256=<hex>` is the HMAC of the body when the channel has a secret."""

    def __init__(self, channel: WebhookChannel, name: str, http: httpx.Client | None = None) -> None:
        super().__init__(channel.timeout, http)
        self.name = name
        self.url = channel.url if isinstance(channel.url, str) else read_secret(channel.url, f"channel {name}: url")
        self.secret = read_secret(channel.secret, f"channel {name}: secret").encode() if channel.secret else None

    def send(self, message: Message, address: str) -> None:
        body = json.dumps({**message.data, "address": address}, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", "Idempotency-Key": message.id}
        if self.secret is not None:
            headers["X-IOC-Signature"] = "sha256=" + hmac.new(self.secret, body, hashlib.sha256).hexdigest()
        response = self._post(self.url, self.name, content=body, headers=headers)
        if not response.is_success:
            raise _http_failure(response, self.name)


class TelegramSender(_HttpSender):
    """Bot API `sendMessage` (JSON `chat_id`, `text`); `{"ok": false}` answers carry the reason and, for
    429, `parameters.retry_after`."""

    def __init__(self, channel: TelegramChannel, name: str, http: httpx.Client | None = None) -> None:
        super().__init__(channel.timeout, http)
        self.name = name
        token = read_secret(channel.token, f"channel {name}: token")
        self.url = f"{channel.api_url.rstrip('/')}/bot{token}/sendMessage"

    def send(self, message: Message, address: str) -> None:
        response = self._post(self.url, self.name, json={"chat_id": address, "text": message.text})
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if response.is_success and answer.get("ok") is True:
            return
        if isinstance(answer, dict) and "description" in answer:
            retry_after = (answer.get("parameters") or {}).get("retry_after")
            code = int(answer.get("error_code") or response.status_code)
            raise DeliveryError(f"{self.name}: {code} {answer['description']}",
                                retry=code == 429 or code >= 500,
                                retry_after=float(retry_after) if retry_after else None)
        raise _http_failure(response, self.name)


class ZaloSender(_HttpSender):
    """Zalo OA API v3 text message: POST `{"recipient": {"user_id"}, "message": {"text"}}` with the OA's
    `access_token` header; the answer's `error` is 0 on success, else a Zalo error code and `message`."""

    def __init__(self, channel: ZaloChannel, name: str, http: httpx.Client | None = None) -> None:
        super().__init__(channel.timeout, http)
        self.name, self.url = name, channel.api_url
        self.token = read_secret(channel.access_token, f"channel {name}: access_token")

    def send(self, message: Message, address: str) -> None:
        response = self._post(self.url, self.name, headers={"access_token": self.token},
                              json={"recipient": {"user_id": address}, "message": {"text": message.text}})
        if not response.is_success:
            raise _http_failure(response, self.name)
        try:
            answer = response.json()
        except ValueError:
            raise DeliveryError(f"{self.name}: answer is not JSON", retry=True) from None
        if answer.get("error") != 0:
            # Zalo's codes are about the token, the user or the 48-hour window: none passes by itself
            raise DeliveryError(f"{self.name}: Zalo error {answer.get('error')} {answer.get('message', '')}",
                                retry=False)


def make_sender(name: str, channel: Channel, http: httpx.Client | None = None) -> Sender:
    """The sender of a configured channel; CredentialError when its secrets cannot be read."""
    if isinstance(channel, SmtpChannel):
        return SmtpSender(channel, name)
    if isinstance(channel, WebhookChannel):
        return WebhookSender(channel, name, http)
    if isinstance(channel, TelegramChannel):
        return TelegramSender(channel, name, http)
    if isinstance(channel, ZaloChannel):
        return ZaloSender(channel, name, http)
    raise CredentialError(f"channel {name}: unknown type")
