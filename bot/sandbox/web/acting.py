"""Interactions the command line never needed: submitting a modal the bot opened, and choosing in a
select menu on a message. Both are sent the way Discord sends them (``MODAL_SUBMIT``, and a
``MESSAGE_COMPONENT`` with ``values``), through the same delivery as slash commands and buttons."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from bot.sandbox.actions import UserActions
from bot.sandbox.interactions import MESSAGE_COMPONENT, MODAL, MODAL_SUBMIT, InteractionHandle

JSON = dict[str, Any]
Value = str | Sequence[str]

ACTION_ROW, TEXT_INPUT, LABEL = 1, 4, 18
SELECTS = (3, 5, 6, 7, 8)


def find_component(components: list[JSON], custom_id: str) -> JSON | None:
    """The component with ``custom_id`` anywhere in a (possibly nested) component tree."""
    for component in components:
        if component.get("custom_id") == custom_id:
            return component
        for key in ("components", "component", "accessory"):
            child = component.get(key)
            children = child if isinstance(child, list) else [child] if isinstance(child, dict) else []
            found = find_component(children, custom_id)
            if found is not None:
                return found
    return None


def submitted_components(layout: list[JSON], values: Mapping[str, Value]) -> list[JSON]:
    """What Discord sends back for a modal: its rows and labels, each input with the member's value
    (the prefilled one when not given)."""
    result: list[JSON] = []
    for component in layout:
        kind = component.get("type")
        if kind == ACTION_ROW:
            result.append(
                {"type": ACTION_ROW, "components": submitted_components(component["components"], values)}
            )
        elif kind == LABEL and isinstance(component.get("component"), dict):
            inner = submitted_components([component["component"]], values)
            if inner:
                result.append({"type": LABEL, "component": inner[0]})
        elif kind == TEXT_INPUT:
            custom_id = component["custom_id"]
            value = values.get(custom_id, component.get("value") or "")
            result.append({"type": TEXT_INPUT, "custom_id": custom_id, "value": str(value)})
        elif kind in SELECTS and "custom_id" in component:
            chosen = values.get(component["custom_id"], [])
            listed = [chosen] if isinstance(chosen, str) else list(chosen)
            result.append({"type": kind, "custom_id": component["custom_id"], "values": listed})
    return result


async def submit_modal(
    actions: UserActions, opened: InteractionHandle, values: Mapping[str, Value], *, user: int | None = None
) -> InteractionHandle:
    """Submit the modal the bot answered ``opened`` with, as the member who opened it (or ``user``)."""
    if opened.response_type != MODAL or not opened.response_data:
        raise LookupError(f"interaction {opened.id} was not answered with a modal")
    modal = opened.response_data
    payload = actions._base(opened.user_id if user is None else user, opened.channel_id)
    payload["type"] = MODAL_SUBMIT
    payload["data"] = {
        "custom_id": modal["custom_id"],
        "components": submitted_components(modal.get("components") or [], values),
    }
    if "message" in opened.payload:  # a modal opened from a button carries that message
        payload["message"] = copy.deepcopy(opened.payload["message"])
    return await actions._deliver(payload)


async def choose(
    actions: UserActions, message_id: int, custom_id: str, values: Sequence[str], *, user: int | None = None
) -> InteractionHandle:
    """Choose ``values`` in the select menu ``custom_id`` of a stored message."""
    stored = actions.core.messages.get(message_id)
    if stored is None:
        raise LookupError(f"message {message_id} is not in the sandbox")
    component = find_component(stored.data.get("components") or [], custom_id)
    if component is None or component.get("type") not in SELECTS:
        raise LookupError(f"message {message_id} has no select menu {custom_id!r}")
    if component.get("disabled"):
        raise LookupError(f"the select menu {custom_id!r} is disabled")
    low, high = int(component.get("min_values", 1)), int(component.get("max_values", 1))
    if not low <= len(values) <= high:
        raise ValueError(f"choose between {low} and {high} values, not {len(values)}")
    if component["type"] == 3:
        allowed = {o["value"] for o in component.get("options") or []}
        unknown = [v for v in values if v not in allowed]
        if unknown:
            raise ValueError(f"{unknown} are not options of {custom_id!r}")
    payload = actions._base(user, stored.channel_id)
    payload["type"] = MESSAGE_COMPONENT
    payload["data"] = {"custom_id": custom_id, "component_type": component["type"], "values": list(values)}
    payload["message"] = copy.deepcopy(stored.data)
    return await actions._deliver(payload)
