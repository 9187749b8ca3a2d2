"""System prompts and user framing for each text kind, and cleaning of what the model writes."""

from __future__ import annotations

import re

from models.text import examples
from models.text.forms import Form, Language, Request
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


# ---- asking for a form -------------------------------------------------------------------------
# The member's request names a form (or the kind implies one): the conversation says what it is
# plainly, shows one example exchange in that form (see `models.text.examples`), then asks.

SYSTEM_PROMPTS_ZH: dict[str, str] = {
    "poem": "你是一位诗人。按照用户的要求写一首简短的原创诗。只用中文回答，只回复诗本身。",
    "story": "你是一位讲故事的人。按照用户的要求写一个简短的原创故事。只用中文回答，只回复故事本身。",
    "lyrics": "你是一位词作者。按照用户的要求写原创歌词，标出段落，例如[主歌一]、[副歌]。只用中文回答。",
    "prompt_ideas": "你帮助画家为图像生成器写提示词。每条写出主体、风格、光线和氛围。只用中文回答，只回复列表。",
    "challenge_theme": "你管理一个艺术家和音乐人的社区。为创作挑战提出主题：短标题、冒号和一句邀请大家参加的话。只用中文回答。",
    "free": "你是艺术家、音乐人和作家社区里友好、乐于助人的创作助手。用中文简短清楚地回答。",
}

_EN_NUMBER_WORDS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
]
_ZH_NUMBER_WORDS = "零一二三四五六七八九十"


def _number(count: int, language: Language) -> str:
    if language == "zh":
        if count <= 10:
            return _ZH_NUMBER_WORDS[count]
        return "十" + (_ZH_NUMBER_WORDS[count - 10] if count > 10 else "") if count < 20 else str(count)
    return _EN_NUMBER_WORDS[count] if count < len(_EN_NUMBER_WORDS) else str(count)


def _labels(form: Form) -> str:
    return ", ".join(f"[{part.label}]" for part in form.parts)


def form_instruction(request: Request, subject: str) -> str:
    """The user turn that asks for `request`'s form plainly, about `subject`."""
    form, language, kind = request.form, request.language, request.kind
    zh = language == "zh"
    if form.items is not None:
        count = _number(form.items, language)
        if kind == "prompt_ideas":
            if zh:
                return f"为“{subject}”写{count}条图像提示词。从1到{form.items}编号，每行一条，每条写出主体、风格、光线和氛围。"
            return (
                f"Give {count} image prompts for: {subject}\n"
                f"Number them 1 to {form.items}, one per line; each names the subject, the style, the lighting and the mood."
            )
        if kind == "challenge_theme":
            if zh:
                return f"为“{subject}”提出{count}个创作挑战主题。从1到{form.items}编号，每行一个：短标题、冒号和一句邀请的话。"
            return (
                f"Suggest {count} creative challenge themes about: {subject}\n"
                f"Number them 1 to {form.items}, one per line, each as a short title, a colon and one inviting sentence."
            )
        if zh:
            return f"关于“{subject}”，列出{count}个点子。从1到{form.items}编号，每行一个，每个一句话。"
        return f"List {count} ideas about: {subject}\nNumber them 1 to {form.items}, one per line, one sentence each."
    if form.labelled:
        if zh:
            return f"写关于“{subject}”的歌词，按顺序包括这些段落：{_labels(form)}。每个标签单独一行，下面写几行歌词。"
        return (
            f"Write song lyrics about: {subject}\n"
            f"Use these parts, in this order: {_labels(form)}. Put each label on its own line, then its lines."
        )
    if form.parts:
        total = form.total_lines
        if zh:
            name = {
                "haiku": "俳句",
                "jueju": "绝句",
                "lushi": "律诗",
                "sonnet": "十四行诗",
                "couplet": "对联",
                "doggerel": "打油诗",
            }
            what = name.get(form.name, "诗")
            stanzas = (
                f"分{_number(len(form.parts), language)}节，节与节之间空一行，" if len(form.parts) > 1 else ""
            )
            return f"写一首关于“{subject}”的{what}，{stanzas}一共{_number(total, language)}行。只回复这{_number(total, language)}行，不要标题。"
        lines = _number(total, language)
        if form.name == "haiku":
            return f"Write a haiku about: {subject}\nA haiku is three short lines. Reply with the three lines only, no title."
        if form.name == "limerick":
            return (
                f"Write a limerick about: {subject}\n"
                "A limerick is five lines that rhyme AABBA and tell a funny little story. Reply with the five lines only."
            )
        if form.name == "sonnet":
            return f"Write a sonnet about: {subject}\nA sonnet is fourteen rhyming lines. Reply with the fourteen lines only."
        if len(form.parts) > 1:
            per = _number(form.parts[0].lines, language)
            return (
                f"Write a poem about: {subject}\n"
                f"Write {_number(len(form.parts), language)} stanzas of {per} lines, with a blank line between stanzas."
            )
        kind_word = "poem" if kind in {"poem", "lyrics", "free"} else "text"
        if total == 1:
            return f"Write a one-line {kind_word} about: {subject}\nReply with that single line only."
        return f"Write a {kind_word} of exactly {lines} lines about: {subject}\nReply with the {lines} lines only, no title."
    if form.sentences is not None:
        count = _number(form.sentences, language)
        if zh:
            return f"用{count}句话写一个关于“{subject}”的故事。只回复这{count}句话。"
        plural = "sentence" if form.sentences == 1 else "sentences"
        return f"Write a very short story about: {subject}\nUse exactly {count} {plural}. Reply with the story only."
    if zh:
        return request.prompt
    return USER_TEMPLATES[kind].format(prompt=request.prompt)


def example_text(request: Request) -> str | None:
    """The example answer in `request`'s form (about the example subject), or None for free form."""
    form, language, kind = request.form, request.language, request.kind
    if form.items is not None:
        pool = {"prompt_ideas": examples.PROMPT_IDEAS, "challenge_theme": examples.THEMES}.get(
            kind, examples.IDEAS
        )
        return "\n".join(f"{index}. {item}" for index, item in enumerate(pool[language][: form.items], 1))
    if form.labelled:
        verses = 0
        blocks = []
        for part in form.parts:
            from models.text.checks import label_kind

            what = label_kind(part.label or "")
            blocks.append(
                f"[{part.label}]\n" + "\n".join(examples.song_part(language, what, verses, part.lines))
            )
            verses += what == "verse"
        return "\n\n".join(blocks)
    if form.parts:
        if form.name == "haiku":
            return examples.HAIKU[language]
        if form.name == "limerick" and language == "en":
            return examples.LIMERICK
        if language == "zh" and form.name in {"jueju", "lushi"}:
            size = 7 if form.line_len[0] >= 7 else 5
            return (examples.JUEJU if form.name == "jueju" else examples.LUSHI)[size]
        line_pool = examples.LINES[language]
        sample = [line_pool[index % len(line_pool)] for index in range(form.total_lines)]
        if len(form.parts) > 1:
            per = form.parts[0].lines
            return "\n\n".join("\n".join(sample[i : i + per]) for i in range(0, len(sample), per))
        return "\n".join(sample)
    if form.sentences is not None:
        joiner = "" if language == "zh" else " "
        return joiner.join(examples.SENTENCES[language][: form.sentences])
    return None


def _example_subject(request: Request) -> str:
    if request.form.items is not None:
        return examples.IDEAS_SUBJECT[request.language]
    if request.form.labelled:
        return examples.SONG_SUBJECT[request.language]
    if request.form.sentences is not None:
        return examples.STORY_SUBJECT[request.language]
    return examples.SUBJECT[request.language]


def form_messages(request: Request, *, few_shot: bool = True) -> list[dict[str, str]]:
    """The chat for one request: the kind's system prompt (in the request's language), one example
    exchange in the form asked for (unless `few_shot` is off or the form is free), then the request."""
    if request.kind not in SYSTEM_PROMPTS:
        raise ValueError(f"unknown text kind {request.kind!r}")
    system = SYSTEM_PROMPTS_ZH[request.kind] if request.language == "zh" else SYSTEM_PROMPTS[request.kind]
    messages = [{"role": "system", "content": system}]
    example = example_text(request) if few_shot else None
    if example is not None:
        messages.append({"role": "user", "content": form_instruction(request, _example_subject(request))})
        messages.append({"role": "assistant", "content": example})
    subject = request.subject if not request.form.free else request.prompt
    messages.append({"role": "user", "content": form_instruction(request, subject)})
    return messages
