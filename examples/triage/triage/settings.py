"""The bot's ``[settings]``, validated at ``check`` and ``run`` (a typo is refused)."""

from __future__ import annotations

from datetime import datetime, time

from pydantic import BaseModel, Field


class Answer(BaseModel):
    match: str  # a regular expression tried on the visitor's text
    answer: str


class TriageSettings(BaseModel):
    timezone: str = "UTC"
    days: list[str] = Field(default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"])
    open: time = time(9)
    close: time = time(18)
    now: datetime | None = None  # pins the clock (tests, demos)
    operator: str | None = None  # who takes over; None leaves it to the inbox
    misses_before_handoff: int = Field(default=2, ge=1)
    answers: list[Answer] = Field(default_factory=list)
