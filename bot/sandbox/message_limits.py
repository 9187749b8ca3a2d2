"""Discord's limits on a message a bot sends, checked the way Discord checks them.

Discord refuses a message over its limits with 400 and code 50035 ("Invalid Form Body"), naming each
field that is too long: content over 2,000 characters, more than 10 embeds or 6,000 characters across
them, an embed's title, description, fields, footer or author over theirs, more than 5 action rows or
5 buttons in a row, a button label over 80 or a custom id over 100. The local server answers the same
way, so a bot that would be refused by Discord is refused here too. Components of the newer layout
(flag IS_COMPONENTS_V2) have other rules and are not checked.
"""

from __future__ import annotations

from typing import Any

from bot.sandbox.http_utils import INVALID_FORM_BODY, ApiError

JSON = dict[str, Any]

CONTENT_MAX = 2000
EMBEDS_MAX = 10
EMBEDS_TOTAL_MAX = 6000  # title, description, field names and values, footer text, author name
EMBED_TEXT_MAX = {"title": 256, "description": 4096}
EMBED_FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_TEXT_MAX = 2048
AUTHOR_NAME_MAX = 256
ACTION_ROWS_MAX = 5
ROW_ITEMS_MAX = 5
LABEL_MAX = 80
CUSTOM_ID_MAX = 100
PLACEHOLDER_MAX = 150
SELECT_OPTIONS_MAX = 25
IS_COMPONENTS_V2 = 1 << 15
ACTION_ROW, BUTTON, TEXT_SELECT = 1, 2, 3


def _length(path: str, value: object, most: int) -> list[str]:
    return (
        [f"{path}: Must be {most} or fewer in length."]
        if isinstance(value, str) and len(value) > most
        else []
    )


def _embed_problems(index: int, embed: JSON) -> tuple[list[str], int]:
    """The problems of one embed, and the characters it counts towards the 6,000 of all embeds."""
    base = f"embeds.{index}"
    problems: list[str] = []
    counted = 0
    for name, most in EMBED_TEXT_MAX.items():
        problems += _length(f"{base}.{name}", embed.get(name), most)
        counted += len(str(embed.get(name) or ""))
    fields = embed.get("fields") or []
    if len(fields) > EMBED_FIELDS_MAX:
        problems.append(f"{base}.fields: Must be {EMBED_FIELDS_MAX} or fewer in length.")
    for number, field in enumerate(fields):
        problems += _length(f"{base}.fields.{number}.name", field.get("name"), FIELD_NAME_MAX)
        problems += _length(f"{base}.fields.{number}.value", field.get("value"), FIELD_VALUE_MAX)
        counted += len(str(field.get("name") or "")) + len(str(field.get("value") or ""))
    footer = (embed.get("footer") or {}).get("text")
    author = (embed.get("author") or {}).get("name")
    problems += _length(f"{base}.footer.text", footer, FOOTER_TEXT_MAX)
    problems += _length(f"{base}.author.name", author, AUTHOR_NAME_MAX)
    counted += len(str(footer or "")) + len(str(author or ""))
    return problems, counted


def _component_problems(rows: list[JSON]) -> list[str]:
    problems: list[str] = []
    if len(rows) > ACTION_ROWS_MAX:
        problems.append(f"components: Must be {ACTION_ROWS_MAX} or fewer in length.")
    for number, row in enumerate(rows):
        if row.get("type") != ACTION_ROW:
            continue
        items = row.get("components") or []
        if len(items) > ROW_ITEMS_MAX:
            problems.append(f"components.{number}.components: Must be {ROW_ITEMS_MAX} or fewer in length.")
        for place, item in enumerate(items):
            path = f"components.{number}.components.{place}"
            problems += _length(f"{path}.custom_id", item.get("custom_id"), CUSTOM_ID_MAX)
            if item.get("type") == BUTTON:
                problems += _length(f"{path}.label", item.get("label"), LABEL_MAX)
            else:
                problems += _length(f"{path}.placeholder", item.get("placeholder"), PLACEHOLDER_MAX)
            if item.get("type") == TEXT_SELECT and len(item.get("options") or []) > SELECT_OPTIONS_MAX:
                problems.append(f"{path}.options: Must be {SELECT_OPTIONS_MAX} or fewer in length.")
    return problems


def message_problems(payload: JSON) -> list[str]:
    """Each field of a message payload (create, edit or interaction response) over Discord's limits."""
    problems = _length("content", payload.get("content"), CONTENT_MAX)
    embeds = payload.get("embeds") or []
    if len(embeds) > EMBEDS_MAX:
        problems.append(f"embeds: Must be {EMBEDS_MAX} or fewer in length.")
    total = 0
    for index, embed in enumerate(embeds):
        if isinstance(embed, dict):
            found, counted = _embed_problems(index, embed)
            problems += found
            total += counted
    if total > EMBEDS_TOTAL_MAX:
        problems.append(f"embeds: Embed size exceeds maximum size of {EMBEDS_TOTAL_MAX}")
    components = payload.get("components") or []
    if not int(payload.get("flags") or 0) & IS_COMPONENTS_V2:
        problems += _component_problems([row for row in components if isinstance(row, dict)])
    return problems


def check_message(payload: JSON) -> None:
    """Raise Discord's 400 (50035) when `payload` is over any of its limits."""
    problems = message_problems(payload)
    if problems:
        raise ApiError(400, INVALID_FORM_BODY, "Invalid Form Body\n" + "\n".join(problems))
