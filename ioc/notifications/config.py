"""notifications.yaml: channels (secrets by reference), people, shifts and their rota, escalation policies."""

from __future__ import annotations

import re
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from ioc.config import SLUG, ConfigError, SecretRef, _Strict, _validate
from ioc.config_base import FROM_ENV
from ioc.model import Severity

FILE_NAME = "notifications.yaml"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}


def parse_duration(value: Any) -> timedelta:
    """'30s', '10m', '2h' (a bare number is minutes)."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(minutes=float(value))
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"'{value}' is not a duration like 30s, 10m or 2h")
    return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])


Duration = Annotated[timedelta, Field(description="30s, 10m, 2h")]


class _Channel(_Strict):
    # `enabled: ${IOC_NOTIFY_EMAIL:-false}` lets a deployment switch a channel on without editing the file
    enabled: Annotated[bool, FROM_ENV] = False
    timeout: float = Field(default=10.0, gt=0, description="seconds for one send")


class SmtpChannel(_Channel):
    """E-mail through an SMTP server (the city's relay)."""

    type: Literal["smtp"]
    host: Annotated[str, FROM_ENV]
    port: int = Field(default=587, gt=0, lt=65536)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | SecretRef | None = None
    password: SecretRef | None = None
    sender: str = Field(pattern=r"^[^@\s]+@[^@\s]+$", description="the From address")
    ca_file: str | None = Field(default=None, description="PEM of a private CA the relay's certificate is "
                                "checked against (default: the system's), relative to the project unless absolute")


class WebhookChannel(_Channel):
    """A JSON POST to one URL per notification (a paging system, a chat bridge); signed when a secret is set."""

    type: Literal["webhook"]
    # a webhook URL often is the credential itself (a token in its path), so it may be given by reference
    url: Annotated[str, FROM_ENV] | SecretRef
    secret: SecretRef | None = Field(default=None, description="HMAC-SHA256 key for the X-IOC-Signature header")


class TelegramChannel(_Channel):
    """Telegram Bot API `sendMessage`; a person's address is their chat id with the bot."""

    type: Literal["telegram"]
    token: SecretRef
    api_url: str = "https://api.telegram.org"


class ZaloChannel(_Channel):
    """Zalo Official Account API v3 text message (`message/cs`); a person's address is their user id with the OA.
    Zalo only delivers these within 48 hours of the person's last interaction with the OA."""

    type: Literal["zalo_oa"]
    access_token: SecretRef
    api_url: str = "https://openapi.zalo.me/v3.0/oa/message/cs"


Channel = Annotated[SmtpChannel | WebhookChannel | TelegramChannel | ZaloChannel, Field(discriminator="type")]


class Person(_Strict):
    """A member of staff who may be told: their address on each channel (configuration, never in Redis)."""

    id: str = Field(pattern=SLUG)
    name: str
    contacts: dict[str, str] = Field(description="channel name -> address on it (e-mail, chat id, user id)")


class Shift(_Strict):
    id: str = Field(pattern=SLUG)
    start: time
    end: time = Field(description="may be earlier than start: the shift runs past midnight")

    def covers(self, moment: time) -> bool:
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


class RotaEntry(_Strict):
    """Who holds which role in one shift (on the given weekdays of the shift's start; default every day)."""

    shift: str
    days: list[Literal[DAYS]] = Field(default_factory=lambda: list(DAYS))  # type: ignore[valid-type]
    roles: dict[str, list[str]] = Field(description="role -> person ids")


class Step(_Strict):
    """After `after` unacknowledged, tell these roles of the shift on duty and these people; again every
    `repeat_every` (at most `repeat_max` times) while it stays unacknowledged."""

    after: Duration = timedelta(0)
    roles: list[str] = Field(default_factory=list)
    people: list[str] = Field(default_factory=list)
    repeat_every: Duration | None = None
    repeat_max: int = Field(default=10, ge=0)

    @field_validator("after", "repeat_every", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return None if value is None else parse_duration(value)

    @model_validator(mode="after")
    def _someone(self) -> Step:
        if not self.roles and not self.people:
            raise ValueError("a step tells at least one role or person")
        if self.repeat_every is not None and self.repeat_every <= timedelta(0):
            raise ValueError("repeat_every must be more than 0")
        return self


class Policy(_Strict):
    """The steps for alerts of these severities (and sectors); the first policy that matches an alert applies."""

    id: str = Field(pattern=SLUG)
    severities: list[Severity] = Field(min_length=1)
    sectors: list[str] = Field(default_factory=list, description="only alerts of these sectors (default: any)")
    steps: list[Step] = Field(min_length=1)


class Delivery(_Strict):
    max_attempts: int = Field(default=8, ge=1)
    backoff: Duration = timedelta(seconds=15)
    backoff_max: Duration = timedelta(minutes=15)
    lease: Duration = Field(default=timedelta(minutes=2),
                            description="a claimed notification not settled this long is claimed again")

    @field_validator("backoff", "backoff_max", "lease", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return parse_duration(value)


class NotificationSettings(_Strict):
    language: Literal["vi", "en"] = Field(default="vi", description="the language messages are written in")
    channels: dict[str, Channel] = Field(default_factory=dict)
    people: list[Person] = Field(default_factory=list)
    shifts: list[Shift] = Field(default_factory=list)
    rota: list[RotaEntry] = Field(default_factory=list)
    policies: list[Policy] = Field(default_factory=list)
    delivery: Delivery = Field(default_factory=Delivery)

    @property
    def enabled_channels(self) -> dict[str, Channel]:
        return {name: channel for name, channel in self.channels.items() if channel.enabled}

    def person(self, person_id: str) -> Person | None:
        return next((p for p in self.people if p.id == person_id), None)

    def problems(self) -> list[str]:
        """Cross-references that do not resolve, and hours no shift covers, as '<where>: <what>'."""
        found: list[str] = []
        people = {p.id for p in self.people}
        shifts = {s.id for s in self.shifts}
        roles: set[str] = set()
        seen: set[str] = set()
        for index, person in enumerate(self.people):
            where = f"people[{index}] ({person.id})"
            if person.id in seen:
                found.append(f"{where}: id: declared twice")
            seen.add(person.id)
            found += [f"{where}: contacts: '{name}' is not a channel" for name in person.contacts
                      if name not in self.channels]
        for index, entry in enumerate(self.rota):
            where = f"rota[{index}]"
            if entry.shift not in shifts:
                found.append(f"{where}: shift: '{entry.shift}' is not a shift ({', '.join(sorted(shifts))})")
            for role, members in entry.roles.items():
                roles.add(role)
                found += [f"{where}: roles.{role}: '{member}' is not a person" for member in members
                          if member not in people]
        for index, policy in enumerate(self.policies):
            for number, step in enumerate(policy.steps):
                where = f"policies[{index}] ({policy.id}): steps[{number}]"
                found += [f"{where}: roles: '{role}' is held by nobody in the rota" for role in step.roles
                          if role not in roles]
                found += [f"{where}: people: '{person}' is not a person" for person in step.people
                          if person not in people]
        if self.shifts:
            for minute in range(0, 24 * 60, 15):
                moment = time(minute // 60, minute % 60)
                if not any(shift.covers(moment) for shift in self.shifts):
                    found.append(f"shifts: no shift covers {moment:%H:%M}")
                    break
        return found


def load_notifications(directory: Path) -> NotificationSettings | None:
    """The city's notifications.yaml, validated and cross-checked; None when the city has none."""
    path = Path(directory) / FILE_NAME
    if not path.exists():
        return None
    settings: NotificationSettings = _validate(NotificationSettings, path, "policies")
    problems = settings.problems()
    if problems:
        raise ConfigError("\n".join(f"{path}: {problem}" for problem in problems))
    return settings
