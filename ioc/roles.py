"""The city's roles (config/<city>/roles.yaml): each role's permissions, session and sign-in rules, and the
list of every permission the server checks. Validated at load; errors name the file, the entry and the field."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ioc.config import ConfigError, Text, _load_yaml

ROLES_FILE = "roles.yaml"
# a user name, and so a role name: what may go in a key and an audit line
USER_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")
EVERYTHING = "*"
# Every permission the server checks. A page, callback or API route needs one of these (ioc.access).
PERMISSIONS: dict[str, str] = {
    "control_room.view": "the control room: map, KPI tiles, open alerts (read-only)",
    "wall.view": "the video wall's kiosk page (/wall) and its state",
    "alerts.view": "the alert queue page",
    "alerts.act": "acknowledge, assign, comment on and resolve alerts",
    "service.manage": "take a feed or a sensor out of service, declare maintenance windows",
    "reports.view": "KPI reports",
    "reports.export": "KPI report exports (CSV, XLSX, PDF)",
    "feeds.view": "the feed health board",
    "feeds.raw": "payloads a reader refused, as received",
    "adapters.test": "testing an adapter against a URL or a saved payload",
    "health.full": "the full /healthz body (errors, counts, latencies)",
    "users.manage": "users, roles and open-data API keys",
    "audit.view": "the audit trail and its CSV export",
    "rules.manage": "alert rules",
    "targets.manage": "KPI targets",
    "situation.view": "the situation view of an alarm or a warning (/situation)",
    "handover.view": "the shift handover page, past handovers and their PDF",
    "handover.act": "handing a shift over, accepting it and its notes",
}

class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SessionPolicy(_Strict):
    idle_minutes: float = Field(default=30, gt=0)
    max_hours: float = Field(default=8, gt=0)
    cookie_secure: bool = True


class SignInPolicy(_Strict):
    """Sign-in throttling (ioc.access.signin explains the design): per address, per account and address or
    known browser, and per account for browsers that never signed in to it. `trusted_proxy_hops`: how many
    reverse proxies in front of the app name the client in X-Forwarded-For (0: the header is ignored)."""

    failures_per_account: int = Field(default=5, ge=1)
    attempts_per_address: int = Field(default=20, ge=1)
    window_seconds: int = Field(default=300, ge=1)
    new_device_failures_per_account: int = Field(default=50, ge=1)
    account_window_seconds: int = Field(default=3600, ge=1)
    device_cookie_days: float = Field(default=90, gt=0)
    trusted_proxy_hops: int = Field(default=0, ge=0, le=10)


class ApiPolicy(_Strict):
    requests_per_minute: int = Field(default=120, ge=1)


class Role(_Strict):
    title: Text
    permissions: list[str] = Field(min_length=1)
    session_hours: float | None = Field(default=None, gt=0, description="default: session.max_hours")
    idle_minutes: float | None = Field(default=None, gt=0, description="default: session.idle_minutes")

    @field_validator("permissions")
    @classmethod
    def _known(cls, permissions: list[str]) -> list[str]:
        for permission in permissions:
            if permission != EVERYTHING and permission not in PERMISSIONS:
                raise ValueError(f"unknown permission '{permission}' (known: {', '.join(sorted(PERMISSIONS))}, *)")
        return permissions

    def allows(self, permission: str) -> bool:
        return EVERYTHING in self.permissions or permission in self.permissions


class Roles(_Strict):
    """Everything roles.yaml says: session rules, sign-in throttling, API rate, the roles themselves."""

    session: SessionPolicy = Field(default_factory=SessionPolicy)
    sign_in: SignInPolicy = Field(default_factory=SignInPolicy)
    api: ApiPolicy = Field(default_factory=ApiPolicy)
    roles: dict[str, Role]

    @model_validator(mode="after")
    def _has_admin(self) -> Roles:
        for name in self.roles:
            if not USER_NAME.match(name):
                raise ValueError(f"role name '{name}' must be lower-case letters, digits, '.', '_' or '-'")
        if not any(EVERYTHING in role.permissions for role in self.roles.values()):
            raise ValueError("no role grants '*': nobody could manage users")
        return self

    def role(self, name: str) -> Role | None:
        return self.roles.get(name)

    def allows(self, role: str, permission: str) -> bool:
        found = self.roles.get(role)
        return found is not None and found.allows(permission)

    def session_seconds(self, role: str) -> float:
        found = self.roles.get(role)
        hours = found.session_hours if found and found.session_hours else self.session.max_hours
        return hours * 3600

    def idle_seconds(self, role: str) -> float:
        found = self.roles.get(role)
        minutes = found.idle_minutes if found and found.idle_minutes else self.session.idle_minutes
        return minutes * 60

    def longest_session_seconds(self) -> float:
        return max([self.session_seconds(name) for name in self.roles] or [self.session.max_hours * 3600])


def load_roles(directory: str | Path) -> Roles:
    """Load and validate roles.yaml of a city's configuration folder; errors name file, entry and field."""
    path = Path(directory) / ROLES_FILE
    data = _load_yaml(path)
    try:
        return Roles.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = [str(part) for part in err["loc"]]
            if len(loc) >= 2 and loc[0] == "roles":
                where, rest = f"roles[{loc[1]}]", loc[2:]
            else:
                where, rest = "", loc
            field = ".".join(rest) or "(entry)"
            message = err["msg"].removeprefix("Value error, ")
            lines.append(f"{path}: {where + ': ' if where else ''}{field}: {message}")
        raise ConfigError("\n".join(lines)) from None


