"""Triage: greets once, sorts the visitor by topic, files their e-mail, answers common
questions and hands over to a human after two misses; office hours from typed settings.

Modules: settings (the typed [settings]), hours (office hours), greeting (first
message, topic picker), contact (topic choice, e-mail field), faq (answers, hand-off),
bot (the plugin, which includes the three routers).
"""
