"""What a member is told when a prompt is stopped: the rule, in English or Simplified Chinese.

The texts name the rule that stopped the prompt and never a score, a matched term or a classifier.
"""

from __future__ import annotations

REASONS: dict[str, dict[str, str]] = {
    "en": {
        "safety.operator_terms": "Your prompt contains a term this bot's operator does not allow.",
        "safety.server_terms": "Your prompt contains a term this server's moderators have blocked.",
        "safety.automod": "Your prompt was stopped by this server's AutoMod rule “{detail}”.",
        "safety.profanity": "Your prompt contains offensive language, which this server's safety level does not allow.",
        "safety.category.minors": "Your prompt sexualises minors. That is never allowed.",
        "safety.category.self_harm": "Your prompt depicts or encourages suicide or self-harm, which is not allowed. If you are struggling, please reach out to someone you trust or a local helpline.",
        "safety.category.hate": "Your prompt contains hateful or demeaning content about a group of people, which is not allowed.",
        "safety.category.extremism": "Your prompt promotes extremist symbols, groups or propaganda, which is not allowed.",
        "safety.category.real_people": "Your prompt puts a real person in a sexual, violent or defamatory scene, which is not allowed (at the strict level, no real people at all).",
        "safety.category.sexual": "Your prompt asks for sexual content, which this channel's safety level does not allow.",
        "safety.category.violence": "Your prompt asks for violent or gory content, which this channel's safety level does not allow.",
    },
    "zh-CN": {
        "safety.operator_terms": "你的提示词包含本机器人运营方不允许的词语。",
        "safety.server_terms": "你的提示词包含本服务器管理员屏蔽的词语。",
        "safety.automod": "你的提示词被本服务器的 AutoMod 规则“{detail}”拦截。",
        "safety.profanity": "你的提示词包含冒犯性语言，本服务器的安全级别不允许。",
        "safety.category.minors": "你的提示词涉及对未成年人的性化内容，这在任何情况下都不被允许。",
        "safety.category.self_harm": "你的提示词描绘或鼓励自杀、自残，这是不被允许的。如果你正处于困境，请联系你信任的人或当地的心理援助热线。",
        "safety.category.hate": "你的提示词包含针对某个群体的仇恨或贬低内容，这是不被允许的。",
        "safety.category.extremism": "你的提示词宣扬极端主义符号、组织或宣传，这是不被允许的。",
        "safety.category.real_people": "你的提示词把真实人物置于色情、暴力或诽谤性的场景中，这是不被允许的（严格级别下不允许任何真实人物）。",
        "safety.category.sexual": "你的提示词要求色情内容，本频道的安全级别不允许。",
        "safety.category.violence": "你的提示词要求暴力或血腥内容，本频道的安全级别不允许。",
    },
}
DEFAULT_LOCALE = "en"


def locale_of(locale: str | None) -> str:
    """``zh-CN``/``zh`` (and other Chinese locales) → ``zh-CN``; everything else → ``en``."""
    if locale and locale.lower().startswith("zh"):
        return "zh-CN"
    return DEFAULT_LOCALE


def reason_text(key: str, locale: str | None = None, *, detail: str = "") -> str:
    """The member-facing sentence for a reason key."""
    table = REASONS[locale_of(locale)]
    return table.get(key, REASONS[DEFAULT_LOCALE][key]).format(detail=detail or "AutoMod")
