"""The dashboard's pages, in one reviewable list: each page module declares itself (`PAGE`), and the shell
around them (`FRAME`) lists those with a nav link. Adding a page is one module and one line here."""

from __future__ import annotations

from ioc.pages import Frame, Page
from layouts import admin, alerts, control_room, feeds, handover, regional, reports, shell, situation, wall

PAGES: tuple[Page, ...] = (control_room.PAGE, alerts.PAGE, reports.PAGE, feeds.PAGE, admin.PAGE,
                           situation.PAGE, wall.PAGE, handover.PAGE, regional.PAGE)
FRAME: Frame = shell.frame(PAGES)
