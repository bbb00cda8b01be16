"""Alert notifications: escalation policy and rota, a Redis outbox with retries, e-mail/webhook/Telegram/Zalo."""

from ioc.notifications.config import NotificationSettings, load_notifications
from ioc.notifications.outbox import Outbox
from ioc.notifications.policy import Due, due_notifications
from ioc.notifications.worker import Notifier, start_notifier

__all__ = ["Due", "NotificationSettings", "Notifier", "Outbox", "due_notifications", "load_notifications",
           "start_notifier"]
