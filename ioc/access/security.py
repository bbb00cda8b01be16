"""What one app enforces: its declared permissions, roles, users, counters, audit trail and cookie policy."""

from __future__ import annotations

from dataclasses import dataclass

from ioc.access.permissions import Access
from ioc.access.throttle import Throttle
from ioc.audit import AuditTrail
from ioc.auth import Roles, UserBook


@dataclass(frozen=True, slots=True)
class Security:
    """What one app enforces: its permissions, its roles, its users, whether cookies need HTTPS."""

    access: Access
    roles: Roles
    users: UserBook
    throttle: Throttle
    audit: AuditTrail
    cookie_secure: bool
