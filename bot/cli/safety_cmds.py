"""`atelier safety check`: run the prompt safety filter over prompts, one a line.

Register with ``cli.add_command(safety_group)`` in ``bot/cli/main.py``.
"""

from __future__ import annotations

from typing import TextIO

import click

LEVELS = ("strict", "standard", "relaxed")


@click.group("safety")
def safety_group() -> None:
    """The prompt safety filter."""


def _lines(source: TextIO | None) -> list[str]:
    return (
        []
        if source is None
        else [line.strip() for line in source if line.strip() and not line.startswith("#")]
    )


@safety_group.command("check")
@click.option("--level", type=click.Choice(LEVELS), default="standard", show_default=True)
@click.option("--operator-terms", type=click.File("r", encoding="utf-8"), help="blocked terms, one a line")
@click.option(
    "--server-terms", type=click.File("r", encoding="utf-8"), help="a server's blocked terms, one a line"
)
@click.argument("file", type=click.File("r", encoding="utf-8"), default="-")
def check_command(
    level: str, operator_terms: TextIO | None, server_terms: TextIO | None, file: TextIO
) -> None:
    """Check prompts read from FILE (or standard input), one a line.

    Prints one tab-separated line per prompt: ``blocked`` or ``allowed``, the rule (``category:minors``,
    ``server_terms``…; ``-`` when allowed), and the prompt. Exits 0 whatever it finds.
    """
    from bot.safety.checker import PromptChecker

    checker = PromptChecker(_lines(operator_terms))
    terms = _lines(server_terms)
    for raw in file:
        prompt = raw.rstrip("\r\n")
        verdict = checker.check(prompt, level=level, server_terms=terms)
        status = "blocked" if verdict.blocked else "allowed"
        shown = prompt.replace("\t", " ")
        click.echo(f"{status}\t{verdict.rule or '-'}\t{shown}")
