"""Office hours from the settings."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from triage.settings import TriageSettings

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def is_open(settings: TriageSettings) -> bool:
    zone = ZoneInfo(settings.timezone)
    now = settings.now.astimezone(zone) if settings.now else datetime.now(zone)
    today = DAYS[now.weekday()] in settings.days
    return today and settings.open <= now.time() < settings.close
