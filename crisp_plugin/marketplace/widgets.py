"""Widget handlers: ``@widget.button(...)`` and ``@widget.data(...)``, their typed action,
and the Generic widget schema built from what a plugin declares.

    class Bot(Plugin, Marketplace[SiteSettings]):
        widget_sections = {"replies": "Canned replies"}

        @widget.button("send_canned", section="replies", label="Send the canned reply")
        async def send_canned(self, action: WidgetAction[SiteSettings]) -> None:
            await self.rest.send_message(action.website_id, action.session_id, "...")

        @widget.data("replies_sent", section="replies", label="Replies sent")
        async def replies_sent(self, action: WidgetAction[SiteSettings]) -> int:
            return 3                                 # shown in the sidebar

Crisp POSTs an operator's click to the plugin's Action URL (see ``endpoint.py``); a
button's handler returns nothing (answered ``{}``), a data item's returns the value to
show (answered ``{"data": {"value": ...}}``); an editable data item's handler gets what
the operator typed in ``action.value`` and returns the value to show. ``widget_schema``
gives the schema to paste in the Marketplace (``python -m crisp_plugin widget``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from crisp_plugin.errors import HandlerError
from crisp_plugin.marketplace.installation import Installation, WebsiteSettingsT

__all__ = ["WIDGET_ATTR", "WidgetAction", "WidgetItem", "widget", "widget_schema"]

WIDGET_ATTR = "__crisp_widget__"
F = TypeVar("F", bound=Callable[..., Awaitable[Any]])
Color = Literal["black", "blue", "green", "orange", "red", "purple"]


@dataclass(frozen=True, slots=True)
class WidgetItem:
    """One declared item: what the schema shows and which method answers it."""

    item_id: str
    kind: Literal["button", "data"]
    section: str
    label: str
    color: Color | None = None
    editable: bool = False
    placeholder: str | None = None
    icon: str | None = None
    method: str = ""

    def schema(self) -> dict[str, Any]:
        value: dict[str, Any] = {"label": self.label}
        if self.kind == "button":
            value = {"type": "hook", **value}
            if self.color:
                value["color"] = self.color
        else:
            value.update(value="", editable=self.editable)
            if self.placeholder:
                value["placeholder"] = self.placeholder
            if self.icon:
                value["icon"] = self.icon
        return {"id": self.item_id, "type": self.kind, "value": value}


@dataclass(frozen=True, slots=True)
class WidgetAction(Generic[WebsiteSettingsT]):
    """An operator's click (or a data item's fetch or edit), checked and typed."""

    website_id: str
    session_id: str
    section_id: str
    item_id: str
    kind: Literal["button", "data"]
    installation: Installation[WebsiteSettingsT]
    data: Mapping[str, Any] = field(default_factory=dict)
    """The item's bound data (``{conversation.meta...}`` bindings, resolved by Crisp)."""
    value: Any = None
    """What the operator typed into an editable data item (``None`` for a fetch)."""

    @property
    def settings(self) -> WebsiteSettingsT:
        """The website's settings (typed by the plugin's model)."""
        return self.installation.settings


def _declare(item: WidgetItem) -> Callable[[F], F]:
    def mark(func: F) -> F:
        if getattr(func, WIDGET_ATTR, None) is not None:
            raise HandlerError(f"{func.__qualname__} already answers a widget item")
        setattr(func, WIDGET_ATTR, item)
        return func

    return mark


class _Widget:
    """The ``widget`` decorators."""

    def button(
        self, item_id: str, *, section: str = "main", label: str, color: Color | None = None
    ) -> Callable[[F], F]:
        """A button (``hook`` type: a click POSTs to the Action URL)."""
        return _declare(WidgetItem(item_id, "button", section, label, color=color))

    def data(
        self,
        item_id: str,
        *,
        section: str = "main",
        label: str,
        editable: bool = False,
        placeholder: str | None = None,
        icon: str | None = None,
    ) -> Callable[[F], F]:
        """A data item: its handler returns the value to show (and takes an edit)."""
        return _declare(
            WidgetItem(
                item_id,
                "data",
                section,
                label,
                editable=editable,
                placeholder=placeholder,
                icon=icon,
            )
        )


widget = _Widget()


def collect_items(cls: type) -> dict[str, WidgetItem]:
    """The widget items a class declares, by item id (``HandlerError`` on a repeat)."""
    found: dict[str, WidgetItem] = {}
    for klass in reversed(cls.__mro__):
        for attr, value in vars(klass).items():
            item = getattr(value, WIDGET_ATTR, None)
            if not isinstance(item, WidgetItem):
                continue
            bound = WidgetItem(
                item.item_id,
                item.kind,
                item.section,
                item.label,
                color=item.color,
                editable=item.editable,
                placeholder=item.placeholder,
                icon=item.icon,
                method=attr,
            )
            clash = found.get(item.item_id)
            if clash is not None and clash.method != attr:
                raise HandlerError(
                    f"{cls.__name__}: widget item {item.item_id!r} is answered by both "
                    f"{clash.method} and {attr}"
                )
            found[item.item_id] = bound
    return found


def widget_schema(items: Mapping[str, WidgetItem], titles: Mapping[str, str]) -> dict[str, Any]:
    """The Generic widget schema: one section per ``section`` (in declaration order,
    titled from ``titles``, else the id), its items in declaration order."""
    sections: dict[str, list[dict[str, Any]]] = {}
    for item in items.values():
        sections.setdefault(item.section, []).append(item.schema())
    return {
        "version": "1.0",
        "sections": [
            {"id": sid, "title": titles.get(sid, sid.replace("_", " ").capitalize()), "items": its}
            for sid, its in sections.items()
        ],
    }
