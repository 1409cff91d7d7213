"""The plugin: the three routers, in the order their handlers run."""

from __future__ import annotations

from crisp_plugin import Plugin
from triage import contact, faq, greeting
from triage.settings import TriageSettings


class Triage(Plugin[TriageSettings]):
    """Greets, sorts by topic, files the e-mail, answers, hands over."""


Triage.include_router(greeting.router)
Triage.include_router(contact.router)
Triage.include_router(faq.router)
