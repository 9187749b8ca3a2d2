"""The words of /compose's form option (added to the catalog on import)."""

from __future__ import annotations

from bot.i18n import add_strings

FORM_NAMES = {
    "auto": "the style's own",
    "AABB": "AABB: two parts, each played twice",
    "AB": "AB: two parts, once each",
    "none": "none: no set form",
}

add_strings(
    command_strings={
        "zh-CN": {
            "Form: parts and repeats (default: the style's)": "曲式：段落与反复（默认：该曲风的曲式）",
            "Length in full bars, repeats written out, upbeat not counted (4-64)": (
                "长度：完整小节数，反复照写，弱起小节不计（4-64）"
            ),
            "the style's own": "该曲风的曲式",
            "AABB: two parts, each played twice": "AABB：两段，各奏两遍",
            "AB: two parts, once each": "AB：两段，各奏一遍",
            "none: no set form": "无：不设曲式",
        }
    }
)
