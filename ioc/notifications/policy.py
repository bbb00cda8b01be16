"""Which notifications an alert is due at a moment: its policy's steps, the rota on duty, repeats (pure, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from ioc.alerts import AlertRecord
from ioc.model import AlertState
from ioc.notifications.config import DAYS, NotificationSettings, Policy, Shift

NOBODY = ""  # person and channel of a step that reached nobody: recorded, so a gap in the rota is seen


@dataclass(frozen=True, slots=True)
class Due:
    """One notification to send: an alert's policy step (and repeat) to one person on one channel."""

    alert_id: str
    policy: str
    step: int
    repeat: int
    person: str
    channel: str
    due_at: datetime

    @property
    def key(self) -> str:
        """What makes it one notification: the same key is never queued twice for an alert."""
        return f"{self.policy}/{self.step}/{self.repeat}/{self.person or '-'}/{self.channel or '-'}"


def policy_for(record: AlertRecord, settings: NotificationSettings) -> Policy | None:
    """The first policy that names the alert's (current) severity and, if it names sectors, its sector."""
    for policy in settings.policies:
        if record.alert.severity in policy.severities and (
                not policy.sectors or record.alert.sector in policy.sectors):
            return policy
    return None


def shift_on_duty(settings: NotificationSettings, moment: datetime, zone: ZoneInfo) -> tuple[Shift, date] | None:
    """The shift covering `moment` and the local date it started (a night shift after midnight began the day
    before, and its rota is that day's)."""
    local = moment.astimezone(zone)
    for shift in settings.shifts:
        if shift.covers(local.time()):
            started = local.date()
            if shift.start > shift.end and local.time() < shift.end:
                started -= timedelta(days=1)
            return shift, started
    return None


def on_duty(settings: NotificationSettings, role: str, moment: datetime, zone: ZoneInfo) -> list[str]:
    """Person ids holding `role` in the shift on duty at `moment`, in rota order."""
    current = shift_on_duty(settings, moment, zone)
    if current is None:
        return []
    shift, started = current
    weekday = DAYS[started.weekday()]
    people: list[str] = []
    for entry in settings.rota:
        if entry.shift == shift.id and weekday in entry.days:
            people += [p for p in entry.roles.get(role, []) if p not in people]
    return people


def due_notifications(
    record: AlertRecord, now: datetime, settings: NotificationSettings, zone: ZoneInfo
) -> list[Due]:
    """Every notification the alert is due at `now`: for each step reached while it is unacknowledged, its
    latest repeat (a planner that was down sends one reminder, not every one it missed), to each person of the
    step on each of their enabled channels. A step that reaches nobody gives one Due with NOBODY."""
    raised = record.alert.raised_at
    if record.state != AlertState.NEW or raised is None:
        return []
    policy = policy_for(record, settings)
    if policy is None:
        return []
    enabled = settings.enabled_channels
    found: list[Due] = []
    for number, step in enumerate(policy.steps):
        first = raised + step.after
        if now < first:
            continue
        repeat = 0
        if step.repeat_every is not None:
            repeat = min(step.repeat_max, int((now - first) / step.repeat_every))
        due_at = first + (step.repeat_every or timedelta(0)) * repeat
        people: list[str] = []
        for role in step.roles:
            people += [p for p in on_duty(settings, role, now, zone) if p not in people]
        people += [p for p in step.people if p not in people]
        reached = False
        for person_id in people:
            person = settings.person(person_id)
            if person is None:
                continue
            for channel in person.contacts:
                if channel in enabled:
                    found.append(Due(record.id, policy.id, number, repeat, person_id, channel, due_at))
                    reached = True
        if not reached:
            found.append(Due(record.id, policy.id, number, repeat, NOBODY, NOBODY, due_at))
    return found
