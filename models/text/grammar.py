"""A form as a grammar, for inference servers that constrain sampling to one (llama.cpp's `grammar`
field takes GBNF; vLLM's xgrammar backend reads the same notation).

On a server the decoder cannot be shaped token by token as it is in process
(`models.text.decoding`), but a grammar sent with the request does the same work inside the server's
sampler: the part labels and item numbers are literal text, every line has a number of words (Han
characters in Chinese) between the form's shortest and longest, the lines, parts and items come in the
form's number and then the answer ends, and only the request's script can be written. What
`models.text.checks` counts is therefore kept by construction; what it cannot count (rhyme, sense) is
still the model's.

Free form has no grammar: nothing to keep but the language, which the prompt already asks for.
"""

from __future__ import annotations

import json

from models.text.forms import Form, Language
from models.text.guide import FormGuide

# The building blocks, per language. English: words of letters (digits, apostrophes, hyphens inside),
# an optional opening quote and closing punctuation. Chinese: Han characters, each optionally
# followed by one punctuation mark.
_ENGLISH = r"""
word ::= ["“(]? [A-Za-z] [A-Za-z0-9'’-]{0,15} [,.;:!?”")—]{0,2}
sword ::= [A-Za-z] [A-Za-z0-9'’-]{0,15} [,;:”")]{0,2}
send ::= [A-Za-z] [A-Za-z0-9'’-]{0,15} [.!?] [”")]{0,1}
"""
_CHINESE = r"""
han ::= [\u4e00-\u9fff] [，。！？、；：“”]{0,1}
shan ::= [\u4e00-\u9fff] [，、；：“”]{0,1}
hanend ::= [\u4e00-\u9fff]{1,1} [。！？] [”]{0,1}
"""

SENTENCE_WORDS = (4, 30)  # an English sentence's words
SENTENCE_HAN = (4, 40)  # a Chinese sentence's characters


def line_limits(form: Form) -> tuple[int, int]:
    """The words (Han characters) a line may have: from the form's shortest line to two past its
    longest (in process the decoder pushes for a line break there); `models.text.checks` accepts
    more, so a grammar's line always passes the check."""
    low, high = form.line_len
    return max(1, low), high + 2


def _line_rule(language: Language, low: int, high: int, lead: str | None = None) -> str:
    """A GBNF expression for one line of `low` to `high` words (Han characters)."""
    if language == "zh":
        if lead:
            rest_low, rest_high = max(0, low - len(lead)), max(1, high - len(lead))
            return f"{json.dumps(lead, ensure_ascii=False)} han{{{rest_low},{rest_high}}}"
        return f"han{{{low},{high}}}"
    return f'word (" " word){{{low - 1},{high - 1}}}'


def _part_lines(form: Form, lines: int) -> tuple[int, int]:
    return (lines, lines) if form.exact_lines else (2, max(2 * lines, 4))


def form_grammar(guide: FormGuide) -> str | None:
    """The GBNF grammar for a guide's request, or None for free form."""
    form, language = guide.form, guide.language
    if form.free:
        return None
    low, high = line_limits(form)
    rules = [_ENGLISH if language == "en" else _CHINESE, f"line ::= {_line_rule(language, low, high)}"]
    lead = guide.lead if form.items is None else None
    if lead:  # the first line opens on the subject, as in process
        rules.append(f"first ::= {_line_rule(language, low, high, lead)}")

    def block(count_low: int, count_high: int, opening: str) -> str:
        if count_high <= 1:
            return opening
        return f'{opening} ("\\n" line){{{count_low - 1},{count_high - 1}}}'

    if form.items is not None:
        item_low = max(low, 2 if language == "zh" else 3)
        rules.append(f"item ::= {_line_rule(language, item_low, high)}")
        every = guide.request.kind == "prompt_ideas"
        items = []
        for number in range(1, form.items + 1):
            opening = guide.lead if guide.lead and (every or number == 1) else None
            body = _line_rule(language, item_low, high, opening) if opening else "item"
            items.append(f'"{number}. " {body}')
        root = ' "\\n" '.join(f"({item})" for item in items)
    elif form.parts:
        blocks = []
        for index, part in enumerate(form.parts):
            count_low, count_high = _part_lines(form, part.lines)
            body = block(count_low, count_high, "first" if index == 0 and lead else "line")
            if part.label:
                label = f"[{part.label}]\n"
                body = f"{json.dumps(label, ensure_ascii=False)} {body}"
            blocks.append(body)
        root = ' "\\n\\n" '.join(f"({body})" for body in blocks)
    else:
        count = form.sentences or 1
        if language == "zh":
            s_low, s_high = SENTENCE_HAN
            rules.append(f"sentence ::= shan{{{s_low - 1},{s_high - 1}}} hanend")
            root = " ".join(["sentence"] * count)
        else:
            s_low, s_high = SENTENCE_WORDS
            rules.append(f'sentence ::= ["“]? sword (" " sword){{{s_low - 2},{s_high - 2}}} " " send')
            root = ' " " '.join(["sentence"] * count)
    rules.insert(0, f"root ::= {root}")
    return "\n".join(rule.strip() for rule in rules) + "\n"
