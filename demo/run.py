"""``python bot.py --demo``: the whole contest, offline, in about a minute.

Starts the local Discord emulator on loopback and the real bot against it (the same code as in
production), then plays a community: a moderator sets the contest up, members submit captions
(one tries a duplicate, one tries to ping everyone), vote with emoji (one changes their mind, one
rates their own entry, another bot votes too), and the results arrive. Contest time runs 60×
faster.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from dataclasses import dataclass
from pathlib import Path

from bot.ai import CommunityAI, load_ai
from bot.clock import Clock
from bot.config import Settings
from bot.store import Store
from discord_emulator import DiscordEmulator, InteractionResult, Message, User
from testkit import Server, build_server, is_entry, is_prompt, is_results, running_bot

SPEED = 60.0
MEMBERS = {
    "ana": "Honestly, the mailbox gets better reception than my flat.",
    "ben": "I asked for a table with a view.",
    "chloe": "Day 40: the tree still refuses to talk about its feelings.",
    "dev": "He said the island was 'cozy'. He did not say 'only'.",
    "eli": "@everyone free coconuts!!! <@&1>",
    "fay": "Still waiting for my package. It said two-day shipping.",
}
TASTE = {
    "ana": 0.6,
    "ben": 0.2,
    "chloe": 0.9,
    "dev": 0.7,
    "eli": 0.1,
    "fay": 0.8,
}  # how funny each is
EMOJI = ("😐", "🙂", "😂")


class Transcript:
    def __init__(self) -> None:
        self.start = time.monotonic()

    def say(self, who: str, what: str) -> None:
        elapsed = time.monotonic() - self.start
        print(f"[{elapsed:5.1f}s] {who:<12} {what}", flush=True)


@dataclass(frozen=True)
class Scene:
    """The demo's server as its steps need it: the emulator, the people, the transcript."""

    emu: DiscordEmulator
    server: Server
    log: Transcript

    @property
    def people(self) -> dict[str, User]:
        return self.server.members

    async def slash(self, user: User, command: str, **options: object) -> InteractionResult:
        """``user`` runs ``/command`` in the contest channel."""
        server = self.server
        return await self.emu.slash(server.guild.id, server.channel.id, user.id, command, **options)


async def run_demo(workdir: Path = Path("."), *, speed: float = SPEED) -> Path:
    """Run one contest end to end; returns the path of the results card it saved."""
    db_path, card_path = workdir / "punchline-demo.db", workdir / "results-card.png"
    _remove_database(db_path)
    log = Transcript()
    async with DiscordEmulator(token="demo-token", timeout=120.0) as emu:
        server = build_server(
            emu, "Punchline Demo", MEMBERS, moderator="mod-maria", bots=["OtherBot"]
        )
        scene = Scene(emu, server, log)
        log.say(
            "emulator",
            f"local Discord on {emu.base_url}: server '{server.guild.name}', "
            f"#{server.channel.name}, {len(server.members)} members, 1 moderator, 1 other bot",
        )
        store = Store(db_path)
        await store.open()
        clock = Clock(speed)
        settings = Settings(
            token=emu.token, database=db_path, adapter_dir=workdir / "punchline-demo-adapters"
        )
        ai = await _load_ai(settings, store, clock, log)
        try:
            async with running_bot(emu, settings, store, clock=clock, ai=ai) as bot:
                log.say(
                    "Punchline",
                    f"logged in as {bot.user} through discord.py; "
                    f"{len(emu.commands())} slash command groups registered",
                )
                await _set_up_contest(scene, clock)
                await _submit_captions(scene)
                if ai is not None:
                    await _ask_the_model(scene)
                thread_id, entries = await _voting_opens(scene)
                await _vote(scene, random.Random(7), thread_id, entries)
                await _results(scene, thread_id, card_path)
        finally:
            with contextlib.suppress(Exception):
                if ai is not None:
                    await ai.aclose()
                await store.close()
    log.say("done", f"database: {db_path.resolve()}  results card: {card_path.resolve()}")
    return card_path


def _remove_database(db_path: Path) -> None:
    """A fresh start: the last run's database and its WAL files go."""
    for suffix in ("", "-wal", "-shm"):
        db_path.with_name(db_path.name + suffix).unlink(missing_ok=True)


async def _load_ai(
    settings: Settings, store: Store, clock: Clock, log: Transcript
) -> CommunityAI | None:
    loading = time.monotonic()
    ai = await load_ai(settings, store, clock)
    log.say(
        "Punchline",
        "loaded the local AI (MiniLM encoder, NYCCC base adapter, Gemma 3 270M) in "
        f"{time.monotonic() - loading:.1f}s"
        if ai
        else "the local AI could not load; crowd only",
    )
    return ai


async def _set_up_contest(scene: Scene, clock: Clock) -> None:
    """The moderator starts a contest now; the prompt is posted."""
    post_time = clock.now().strftime("%H:%M")
    answer = await scene.slash(
        scene.server.mod,
        "contest setup",
        channel=scene.server.channel.id,
        timezone="UTC",
        post_time=post_time,
        submission_minutes=20,
        voting_minutes=20,
    )
    scene.log.say(
        "mod-maria",
        f"/contest setup post_time:{post_time} UTC, 20 min + 20 min "
        f"(contest clock ×{clock.speed:g})",
    )
    scene.log.say("Punchline", f"(only to her) {answer.content.splitlines()[0]}")
    channel_id = scene.server.channel.id
    prompt = await scene.emu.wait_for_message(channel_id, is_prompt, include_existing=True)
    description = prompt.embeds[0]["description"].splitlines()[0]
    scene.log.say("Punchline", f"posted the prompt: {description}")


async def _submit_captions(scene: Scene) -> None:
    """Every member submits; one tries another's caption in capitals."""
    for name, caption in MEMBERS.items():
        reply = await scene.slash(scene.people[name], "caption submit", text=caption)
        scene.log.say(name, f"/caption submit “{caption}”")
        scene.log.say("Punchline", f"(only to {name}) {reply.content.splitlines()[0]}")
    copy = "HONESTLY, the mailbox gets better reception than my flat."
    dup = await scene.slash(scene.people["ben"], "caption submit", text=copy)
    scene.log.say("ben", "/caption submit (ana's caption, in capitals)")
    scene.log.say("Punchline", f"(only to ben) {dup.content}")


async def _ask_the_model(scene: Scene) -> None:
    """A member asks for caption ideas and another for a joke (the local LLM, ranked by taste)."""
    idea = await scene.slash(scene.people["dev"], "caption suggest")
    scene.log.say("dev", "/caption suggest")
    scene.log.say("Punchline", f"(only to dev) {idea.content.splitlines()[0]}")
    topic = "penguins at a job interview"
    joke = await scene.slash(scene.people["fay"], "joke", topic=topic)
    scene.log.say("fay", f"/joke topic:{topic}")
    scene.log.say("Punchline", joke.content.splitlines()[0])


async def _voting_opens(scene: Scene) -> tuple[int, list[Message]]:
    """Submissions close: the voting thread and every entry in it, with its emoji."""
    emu, guild_id = scene.emu, scene.server.guild.id
    thread = await emu.wait_until(
        lambda: next(iter(emu.state.guild_threads(guild_id)), None), "the voting thread"
    )
    scene.log.say("Punchline", f"voting opened in thread '{thread.name}'")
    entries = await emu.wait_until(
        lambda: _posted_entries(emu, thread.id, len(MEMBERS)), "every entry posted with its emoji"
    )
    for message in entries:
        scene.log.say("Punchline", message.content.replace("\n>>> ", ": "))
    return thread.id, entries


async def _results(scene: Scene, thread_id: int, card_path: Path) -> None:
    """Voting closes: the results as posted (mentions shown as names), the card saved, and a
    check that nothing pinged anyone."""
    emu, channel_id = scene.emu, scene.server.channel.id
    results = await emu.wait_for_message(channel_id, is_results)
    scene.log.say("Punchline", "posted the results:")
    names = {f"<@{user.id}>": f"@{name}" for name, user in scene.people.items()}
    for line in results.embeds[0]["description"].split("\n\n"):
        for mention, name in names.items():
            line = line.replace(mention, name)
        print("               " + line.replace("\n", "\n               "))
    for field in results.embeds[0].get("fields", []):
        print(f"               {field['name']}: {field['value']}")
    await asyncio.to_thread(card_path.write_bytes, results.attachments[0].data)
    pinged = [
        m
        for m in emu.messages(channel_id) + emu.messages(thread_id)
        if m.pinged_everyone or m.pinged_roles or m.pinged_users
    ]
    scene.log.say("check", f"messages that pinged anyone: {len(pinged)}")


def _posted_entries(emu: DiscordEmulator, thread_id: int, count: int) -> list[Message] | None:
    posted = [m for m in emu.messages(thread_id) if is_entry(m) and len(m.reactions) == 3]
    return posted if len(posted) == count else None


async def _vote(scene: Scene, rng: random.Random, thread_id: int, entries: list[Message]) -> None:
    """Each member rates the others' captions by how funny they are, with some noise; then one
    changes his mind, one rates her own entry and another bot reacts."""
    emu, people, log = scene.emu, scene.people, scene.log
    author_of = {
        message.id: next(n for n, c in MEMBERS.items() if _same(c, message.content))
        for message in entries
    }
    for voter, user in people.items():
        for message in entries:
            author = author_of[message.id]
            if author == voter:
                continue
            score = TASTE[author] + rng.uniform(-0.35, 0.35)
            emoji = EMOJI[0 if score < 0.4 else 1 if score < 0.7 else 2]
            await emu.react(user.id, thread_id, message.id, emoji)
    log.say("members", f"{len(people)} members rated every entry but their own")
    flip = next(m for m in entries if author_of[m.id] != "ben")
    await emu.react(people["ben"].id, thread_id, flip.id, "😂")
    log.say(
        "ben",
        f"changed his mind on {flip.content.splitlines()[0]}: now 😂 (replaces his old rating)",
    )
    own = next(m for m in entries if author_of[m.id] == "chloe")
    await emu.react(people["chloe"].id, thread_id, own.id, "😂")
    log.say("chloe", "reacted 😂 to her own entry (not counted; the bot removes it)")
    await emu.react(scene.server.bots["OtherBot"].id, thread_id, own.id, "😂")
    log.say("OtherBot", "reacted 😂 (bots don't vote; removed)")


def _same(caption: str, content: str) -> bool:
    from bot.text import quote_caption

    return quote_caption(caption) in content


def quiet_logging() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("discord", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
