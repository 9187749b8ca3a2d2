"""Fuzz the real bot through the local Discord server: every slash command it registered (found in its
command tree, so a new command is fuzzed without a change here) with any valid options and with crafted
ones, every button it registered (from its dynamic items' custom-id templates), and the judges' score
form. Each interaction must be answered within Discord's 3 s, never with the internal-error reply, never
with a message Discord would refuse as too long, and without an ERROR log; a crafted option must be
refused privately by name, with nothing stored. State carries over from example to example, as on a
real server."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any

import discord
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from sqlalchemy import select

from bot.app import AtelierBot
from bot.challenges.model import Criterion, NewChallenge, Phase, Rules, VotingMode
from bot.challenges.repository import SCORES
from bot.core.tree import AtelierTree
from bot.guilds.document import ImportRefused, import_settings
from bot.guilds.settings import GuildSettings, parse_settings
from bot.sandbox import InteractionHandle, SandboxServer
from bot.sandbox.interactions import MODAL
from bot.sandbox.message_limits import CUSTOM_ID_MAX
from tests.bot.fuzz.answers import INTERNAL, Answer, answer_of, sent_problems, stored_state
from tests.bot.fuzz.options import Known, Leaf, crafted_options, known_job, leaves, valid_options
from tests.bot.guilds.documents import import_files
from tests.helpers.fuzz import examples
from wire.contract import utcnow

JSON = dict[str, Any]
GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?P<body>[^()]*(?:\([^()]*\)[^()]*)*)\)")


class World:
    """Who and what exists besides the test member: a plain member, a second channel, a role."""

    def __init__(self, server: SandboxServer, other: int, channel: int, role: int) -> None:
        self.server = server
        self.other = other
        self.channel = channel
        self.role = role

    async def known(self, bot: AtelierBot) -> Known:
        server = self.server
        jobs = tuple(r.id for r in await bot.runtime.jobs.list_recent(limit=20))
        return Known(
            users=(server.member_id, self.other, server.bot_user_id),
            channels=(server.channel_id, self.channel),
            roles=(self.role, server.guild_id),
            jobs=jobs,
            numbers=(0, 1, 2, 3),
        )


@pytest.fixture
async def world(bot: AtelierBot, sandbox: SandboxServer) -> World:
    other = sandbox.world.add_user("someone")
    sandbox.world.add_member(sandbox.guild_id, other)
    channel = await sandbox.create_channel("art")
    role = await sandbox.create_role("artists")
    return World(sandbox, other, channel, role)


@pytest.fixture
def errors(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO)
    return caplog


def command_leaves(bot: AtelierBot, sandbox: SandboxServer) -> list[Leaf]:
    """Every runnable command in the bot's tree, with the options it synced for it."""
    tree = bot.tree
    assert isinstance(tree, AtelierTree)
    paths = {
        command.qualified_name
        for scope in (None, discord.Object(sandbox.guild_id))
        for command in tree.walk_commands(guild=scope)
        if isinstance(command, discord.app_commands.Command)
    }
    synced = {leaf.path: leaf for command in sandbox.commands(sandbox.guild_id) for leaf in leaves(command)}
    assert paths <= set(synced), paths - set(synced)
    assert len(paths) >= 30, paths
    return [synced[path] for path in sorted(paths)]


def answer_problems(
    answer: Answer, handle: InteractionHandle, server: SandboxServer, since: int
) -> list[str]:
    """What every interaction's answer must satisfy, valid or not."""
    problems = []
    if answer.response_type is None:
        problems.append("no response within 3 s")
    if handle.rejections:
        problems.append(f"the local Discord refused the bot's answers: {handle.rejections}")
    if any(word in answer.text for word in INTERNAL):
        problems.append(f"the internal-error reply: {answer.text[:300]!r}")
    return problems + sent_problems(server, since)


FORM_TEXT = st.one_of(
    st.text(max_size=40),
    st.integers(-20, 20).map(str),
    st.sampled_from(["nan", "inf", "1e309", "-0", "1,5", " 7 ", "٣", "", "x" * 4000]),
)
"""What a member can type in a modal's text input (and a modified client past its max length)."""


def text_inputs(components: list[JSON]) -> list[str]:
    """The custom ids of a modal's text inputs, in order (in rows or labels)."""
    found: list[str] = []
    for component in components:
        if component.get("type") == 4:
            found.append(str(component["custom_id"]))
        for key in ("components", "component"):
            child = component.get(key)
            found += text_inputs(child if isinstance(child, list) else [child] if child else [])
    return found


async def submit_if_modal(
    server: SandboxServer, handle: InteractionHandle, answer: Answer, typed: list[str]
) -> list[str]:
    """When the bot answered with a modal, submit it with `typed` and check that answer too."""
    if answer.modal is None:
        return []
    inputs = text_inputs(answer.modal.get("components") or [])
    values = dict(zip(inputs, typed, strict=False))
    requests = len(server.requests)
    submitted = await server.submit_modal(handle, values)
    reply = await answer_of(server, submitted)
    problems = answer_problems(reply, submitted, server, requests)
    if not reply.private:
        problems.append(f"a form was not answered privately: {reply}")
    return [f"form {values}: {p}" for p in problems]


def crash_logs(caplog: pytest.LogCaptureFixture, since: int) -> list[str]:
    return [f"{r.name}: {r.getMessage()[:300]}" for r in caplog.records[since:] if r.levelno >= logging.ERROR]


def shown(options: JSON) -> JSON:
    """Options as a failure message shows them (files by name and size)."""
    return {
        k: (f"<file {v[0]} {len(v[1])} bytes>" if isinstance(v, tuple) else v) for k, v in options.items()
    }


@examples(400)
@given(data=st.data())
async def test_every_command_answers_any_options_clearly(
    bot: AtelierBot,
    sandbox: SandboxServer,
    world: World,
    errors: pytest.LogCaptureFixture,
    data: st.DataObject,
) -> None:
    leaf = data.draw(st.sampled_from(command_leaves(bot, sandbox)), label="command")
    known = await world.known(bot)
    crafted = data.draw(st.booleans(), label="crafted")
    if crafted:  # a server with no rules in the way, so the refusal is about the option
        await bot.services.guilds.update(sandbox.guild_id, lambda _: GuildSettings(), by=None)
        options, wrong = data.draw(crafted_options(leaf, known), label="options")
        user = sandbox.member_id
    else:
        options = data.draw(valid_options(leaf, known), label="options")
        user = data.draw(st.sampled_from([sandbox.member_id, world.other]), label="user")
    before = await stored_state(bot, sandbox.guild_id)
    requests, logs = len(sandbox.requests), len(errors.records)

    typed = data.draw(st.lists(FORM_TEXT, min_size=5, max_size=5), label="typed in a form")
    handle = await sandbox.send_slash_command(leaf.path, options, user=user, validate=False)
    answer = await answer_of(sandbox, handle)

    problems = answer_problems(answer, handle, sandbox, requests)
    problems += await submit_if_modal(sandbox, handle, answer, typed) + crash_logs(errors, logs)
    if crafted:
        if not answer.private:
            problems.append(f"a crafted option was not refused privately: {answer}")
        if f"**{wrong}**" not in answer.text:
            problems.append(f"the refusal does not name **{wrong}**: {answer.text[:300]!r}")
        if await stored_state(bot, sandbox.guild_id) != before:
            problems.append("a refused command stored something")
    assert problems == [], (leaf.path, shown(options), answer.text[:500])


# --- buttons ------------------------------------------------------------------------------------------


def button_templates(bot: AtelierBot) -> list[re.Pattern[str]]:
    """The custom-id templates of every button the bot registered (its dynamic items)."""
    store = bot._connection._view_store
    patterns = list(store._dynamic_items)
    assert len(patterns) >= 10, patterns
    return patterns


@st.composite
def custom_ids(draw: st.DrawFn, template: re.Pattern[str], known: Known) -> str:
    """A custom id the template matches: each named part a real id or any value its pattern allows.

    Only ids Discord would carry (at most 100 characters): a longer one cannot be on a button.
    """
    source = template.pattern.removeprefix("^").removesuffix("$")
    pieces, at = [], 0
    for group in GROUP.finditer(source):
        pieces.append(source[at : group.start()].replace("\\", ""))
        name, body = group["name"], group["body"]
        anything = st.from_regex(f"^(?:{body})$", fullmatch=True)
        if name in ("job", "item"):
            anything = known_job(known) | anything
        elif name in ("challenge", "entry", "position"):
            huge = st.integers(2**63, 10**40).map(str)  # past any database integer
            anything = st.sampled_from([str(n) for n in known.numbers]) | huge | anything
        pieces.append(draw(anything))
        at = group.end()
    pieces.append(source[at:].replace("\\", ""))
    custom_id = "".join(pieces)
    assert template.fullmatch(custom_id), (template.pattern, custom_id)
    assume(len(custom_id) <= CUSTOM_ID_MAX)
    return custom_id


def post_button(server: SandboxServer, custom_id: str) -> JSON:
    """A message from the bot carrying one button (as if it had posted it earlier)."""
    components = [{"type": 1, "components": [{"type": 2, "style": 2, "label": "x", "custom_id": custom_id}]}]
    message = server.core.factory.create(
        channel_id=server.channel_id,
        guild_id=server.guild_id,
        author=server.world.users[server.bot_user_id],
        payload={"content": "a result", "components": components},
        files=(),
    )
    server.core.messages.add(message)
    return message.data


@examples(250)
@given(data=st.data())
async def test_every_button_answers_any_click_clearly(
    bot: AtelierBot,
    sandbox: SandboxServer,
    world: World,
    errors: pytest.LogCaptureFixture,
    data: st.DataObject,
) -> None:
    known = await world.known(bot)
    fresh = data.draw(st.integers(0, 9), label="new jobs") == 0
    if fresh or not known.jobs:  # jobs for the buttons to act on
        for prompt in ("rain on the roof", "a lighthouse"):
            await sandbox.send_slash_command("write", {"prompt": prompt})
        await judges_challenge(bot, sandbox, sandbox.member_id)  # so score buttons open their form
        known = await world.known(bot)
    template = data.draw(st.sampled_from(button_templates(bot)), label="template")
    custom_id = data.draw(custom_ids(template, known), label="custom_id")
    user = data.draw(st.sampled_from([sandbox.member_id, world.other]), label="user")
    message = post_button(sandbox, custom_id)
    requests, logs = len(sandbox.requests), len(errors.records)

    typed = data.draw(st.lists(FORM_TEXT, min_size=5, max_size=5), label="typed in a form")
    handle = await sandbox.click_button(message, custom_id, user=user)
    answer = await answer_of(sandbox, handle)

    problems = answer_problems(answer, handle, sandbox, requests)
    problems += await submit_if_modal(sandbox, handle, answer, typed) + crash_logs(errors, logs)
    assert problems == [], (custom_id, user, answer.text[:500])


# --- the judges' score form ---------------------------------------------------------------------------


SCORE_TEXT = st.one_of(
    st.text(max_size=8),
    st.floats(allow_nan=True, allow_infinity=True).map(lambda x: f"{x:g}"[:8]),
    st.integers(-20, 20).map(str),
    st.sampled_from(["nan", "inf", "-inf", "1e309", "-0", "1,5", " 7 ", "٣", "1_0", "0x1", "", "10.0000"]),
    st.integers(1, 5).map(str),
    st.floats(1, 5).map(lambda x: f"{x:.2f}"),
)


async def judges_challenge(bot: AtelierBot, sandbox: SandboxServer, judge: int) -> tuple[int, int]:
    """A challenge in voting with one entry, judged by `judge` on two criteria."""
    repository = bot.services.extras["challenges"].repository
    rules = Rules(
        voting=VotingMode.JUDGES,
        judges=(judge,),
        criteria=(Criterion(name="craft", low=0, high=10), Criterion(name="idea", low=1, high=5)),
    )
    new = NewChallenge(
        title="Night songs",
        brief="Anything about the night.",
        channel_id=sandbox.channel_id,
        opens_at=utcnow() - timedelta(minutes=1),
        submission_hours=1,
        voting_hours=1,
        rules=rules,
    )
    challenge = await repository.create(sandbox.guild_id, new, created_by=judge)
    entry = await repository.add_entry(
        challenge, sandbox.member_id, job_id=None, made_by="human", caption="a song", files=[]
    )
    await repository.move(challenge.id, [Phase.OPEN], Phase.VOTING)
    return challenge.id, entry.id


async def stored_scores(bot: AtelierBot) -> list[tuple[Any, ...]]:
    repository = bot.services.extras["challenges"].repository
    return await repository._db.write(lambda c: [tuple(row) for row in c.execute(select(SCORES))])


@examples(60)
@given(data=st.data())
async def test_the_score_form_answers_any_values_clearly(
    bot: AtelierBot,
    sandbox: SandboxServer,
    world: World,
    errors: pytest.LogCaptureFixture,
    data: st.DataObject,
) -> None:
    judge = sandbox.member_id
    challenge_id, entry_id = await judges_challenge(bot, sandbox, judge)
    button = f"chal:score:{challenge_id}:{entry_id}"
    opened = await sandbox.click_button(post_button(sandbox, button), button, user=judge)
    await opened.wait_responded(3)
    assert opened.response_type == MODAL and opened.response_data, opened.response_data
    inputs = [row["components"][0]["custom_id"] for row in opened.response_data["components"]]
    values = {custom_id: data.draw(SCORE_TEXT, label=custom_id) for custom_id in inputs}
    before = await stored_scores(bot)
    requests, logs = len(sandbox.requests), len(errors.records)

    handle = await sandbox.submit_modal(opened, values)
    answer = await answer_of(sandbox, handle)

    problems = answer_problems(answer, handle, sandbox, requests) + crash_logs(errors, logs)
    if not answer.private:
        problems.append(f"the form was not answered privately: {answer}")
    parsed = [_score(v) for v in values.values()]
    in_range = all(p is not None for p in parsed) and 0 <= parsed[0] <= 10 and 1 <= parsed[1] <= 5  # type: ignore[operator]
    after = await stored_scores(bot)
    if not in_range and after != before:
        problems.append(f"refused scores were stored: {after}")
    if in_range and len(after) != len(before) + 2:
        problems.append(f"accepted scores were not stored: {after}")
    assert problems == [], (values, answer.text[:500])


def _score(text: str) -> float | None:
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        return None
    return value if value == value else None


# --- /config import through the command ------------------------------------------------------------


@examples(100)
@given(raw=import_files(), name=st.sampled_from(["atelier.toml", "settings.txt"]))
async def test_config_import_stores_the_whole_file_or_nothing(
    bot: AtelierBot, sandbox: SandboxServer, errors: pytest.LogCaptureFixture, raw: bytes, name: str
) -> None:
    """The moderator's file is applied whole (and reads back equal) or refused privately with its
    problems named, the stored document and its version untouched."""
    guild = sandbox.guild_id
    before = await bot.services.guilds.repository.get(guild)
    requests, logs = len(sandbox.requests), len(errors.records)
    handle = await sandbox.send_slash_command(
        "config import", attachments={"file": (name, raw, "text/plain")}
    )
    answer = await answer_of(sandbox, handle)

    problems = answer_problems(answer, handle, sandbox, requests) + crash_logs(errors, logs)
    if not answer.private:
        problems.append(f"the answer is public: {answer}")
    after = await bot.services.guilds.repository.get(guild)
    try:
        imported: GuildSettings | None = import_settings(raw, bot.services.settings.moderation)
    except ImportRefused:
        imported = None
    if not raw:  # refused as an upload, before it is read
        imported = None
    elif imported is None and "Nothing was imported" not in answer.text:
        problems.append(f"a refused file was not explained: {answer.text[:300]!r}")
    if imported is None and (after.version, after.data) != (before.version, before.data):
        problems.append("a refused file changed the stored settings")
    if imported is not None and not answer.text.startswith("Imported"):
        problems.append(f"an accepted file was not confirmed: {answer.text[:300]!r}")
    if imported is not None and parse_settings(after.data, GuildSettings) != imported:
        problems.append(f"the stored settings are not the file's: {after.data}")
    for reading in ("config show", "config export"):  # whatever was imported can be shown and exported
        requests = len(sandbox.requests)
        shown_to = await answer_of(sandbox, await sandbox.send_slash_command(reading))
        problems += [f"/{reading}: {p}" for p in answer_problems(shown_to, handle, sandbox, requests)]
    problems += crash_logs(errors, logs)
    assert problems == [], (raw[:300], answer.text[:500])
