"""System prompts and user framing for each text kind, and cleaning of what the model writes."""

from __future__ import annotations

import re

from wire.contract import TEXT_KINDS

SYSTEM_PROMPTS: dict[str, str] = {
    "poem": (
        "You are a poet. Write one short, original poem about what the user asks. "
        "Use vivid images and a clear rhythm. Reply with the poem only, without explanations."
    ),
    "story": (
        "You are a storyteller. Write a short, original story about what the user asks, "
        "with a beginning, a middle and an end. Reply with the story only."
    ),
    "lyrics": (
        "You are a songwriter. Write original song lyrics about what the user asks, "
        "with labelled parts such as [Verse 1], [Chorus] and [Verse 2]. Reply with the lyrics only."
    ),
    "prompt_ideas": (
        "You help artists write prompts for an image generator. For the user's idea, write five "
        "detailed image prompts, one per line, each naming the subject, the style, the lighting and "
        "the mood. Reply with the list only."
    ),
    "challenge_theme": (
        "You run an online community of artists and musicians. Suggest five themes for a creative "
        "challenge inspired by what the user asks, one per line: a short title, a colon and one "
        "sentence that invites people to take part. Reply with the list only."
    ),
    "free": (
        "You are a friendly, helpful creative assistant for a community of artists, musicians and "
        "writers. Answer clearly and briefly."
    ),
}

# Small models follow the user turn more than the system prompt, so the format is repeated here.
USER_TEMPLATES: dict[str, str] = {
    "poem": "Write a short poem about: {prompt}",
    "story": "Write a short story about: {prompt}",
    "lyrics": "Write song lyrics about: {prompt}\nUse the parts [Verse 1], [Chorus] and [Verse 2].",
    "prompt_ideas": (
        "Give five image prompts for: {prompt}\n"
        "Number them 1 to 5, one per line; each names the subject, the style, the lighting and the mood."
    ),
    "challenge_theme": (
        "Suggest five creative challenge themes about: {prompt}\n"
        "Number them 1 to 5, one per line, each as a short title, a colon and one inviting sentence."
    ),
    "free": "{prompt}",
}

assert set(SYSTEM_PROMPTS) == set(TEXT_KINDS) == set(USER_TEMPLATES), "every text kind needs its prompts"


def build_messages(kind: str, prompt: str) -> list[dict[str, str]]:
    """The chat messages for one job: the kind's system prompt, then the member's request."""
    if kind not in SYSTEM_PROMPTS:
        raise ValueError(f"unknown text kind {kind!r}")
    return [
        {"role": "system", "content": SYSTEM_PROMPTS[kind]},
        {"role": "user", "content": USER_TEMPLATES[kind].format(prompt=prompt.strip())},
    ]


def plain_prompt(messages: list[dict[str, str]]) -> str:
    """A prompt for a tokenizer without a chat template: each message on its own paragraph."""
    parts = [f"{message['role'].capitalize()}: {message['content']}" for message in messages]
    return "\n\n".join(parts) + "\n\nAssistant:"


_ROLE_PREFIX = re.compile(r"^\s*(assistant|answer|response)\s*:?\s*\n", re.IGNORECASE)


def _squash(text: str) -> str:
    return re.sub(r"[\W_]+", " ", text).strip().lower()


def clean_output(text: str, echoes: list[str]) -> str:
    """Strip whitespace, a leftover role line, and any opening line that merely repeats the request."""
    text = _ROLE_PREFIX.sub("", text.replace("\r\n", "\n")).strip()
    echoed = {_squash(echo) for echo in echoes if _squash(echo)}
    while text:
        first, _, rest = text.partition("\n")
        if _squash(first) not in echoed:
            break
        text = rest.strip()
    return text


_SENTENCE_END = re.compile(r"[.!?…](?:[\"'”’)\]]*)(?=\s|$)")


def trim_unfinished(text: str) -> str:
    """Drop the half-written tail of text that ran out of tokens: the last line, or the last sentence."""
    text = text.rstrip()
    lines = text.split("\n")
    if len(lines) > 1:
        return "\n".join(lines[:-1]).rstrip()
    ends = [match.end() for match in _SENTENCE_END.finditer(text)]
    if ends and ends[-1] < len(text) and ends[-1] >= len(text) // 2:
        return text[: ends[-1]]
    return text
