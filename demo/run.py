"""``python bot.py --demo``: the whole contest, offline, in about a minute.

Starts the local Discord emulator on loopback and the real bot against it (the same code as in
production), then plays a community: a moderator sets the contest up, members submit captions
(one tries a duplicate, one tries to ping everyone), vote with emoji (one changes their mind, one
rates their own entry, another bot votes too), and the results arrive. Contest time runs 60× faster.
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
from pathlib import Path

from bot.ai import load_ai
from bot.clock import Clock
from bot.config import Settings
from bot.store import Store
from discord_emulator import DiscordEmulator, Message
from testkit import build_server, is_entry, is_prompt, is_results, running_bot

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


async def run_demo(workdir: Path = Path("."), *, speed: float = SPEED) -> Path:
    """Run one contest end to end; returns the path of the results card it saved."""
    db_path, card_path = workdir / "punchline-demo.db", workdir / "results-card.png"
    for stale in (
        db_path,
        db_path.with_name(db_path.name + "-wal"),
        db_path.with_name(db_path.name + "-shm"),
    ):
        stale.unlink(missing_ok=True)
    log = Transcript()
    rng = random.Random(7)
    async with DiscordEmulator(token="demo-token", timeout=120.0) as emu:
        world = build_server(
            emu, "Punchline Demo", MEMBERS, moderator="mod-maria", bots=["OtherBot"]
        )
        guild, channel, moderator = world.guild, world.channel, world.mod
        people, other_bot = world.members, world.bots["OtherBot"]
        log.say(
            "emulator",
            f"local Discord on {emu.base_url}: server '{guild.name}', #{channel.name}, "
            f"{len(people)} members, 1 moderator, 1 other bot",
        )

        store = Store(db_path)
        await store.open()
        clock = Clock(speed)
        settings = Settings(
            token=emu.token, database=db_path, adapter_dir=workdir / "punchline-demo-adapters"
        )
        loading = time.monotonic()
        ai = await load_ai(settings, store, clock)
        log.say(
            "Punchline",
            "loaded the local AI (MiniLM encoder, NYCCC base adapter, Gemma 3 270M) in "
            f"{time.monotonic() - loading:.1f}s"
            if ai
            else "the local AI could not load; crowd only",
        )
        try:
            async with running_bot(emu, settings, store, clock=clock, ai=ai) as bot:
                log.say(
                    "Punchline",
                    f"logged in as {bot.user} through discord.py; "
                    f"{len(emu.commands())} slash command groups registered",
                )
                post_time = clock.now().strftime("%H:%M")
                answer = await emu.slash(
                    guild.id,
                    channel.id,
                    moderator.id,
                    "contest setup",
                    channel=channel.id,
                    timezone="UTC",
                    post_time=post_time,
                    submission_minutes=20,
                    voting_minutes=20,
                )
                log.say(
                    "mod-maria",
                    f"/contest setup post_time:{post_time} UTC, 20 min + 20 min "
                    f"(contest clock ×{speed:g})",
                )
                log.say("Punchline", f"(only to her) {answer.content.splitlines()[0]}")
                prompt = await emu.wait_for_message(channel.id, is_prompt, include_existing=True)
                log.say(
                    "Punchline",
                    f"posted the prompt: {prompt.embeds[0]['description'].splitlines()[0]}",
                )

                for name, caption in MEMBERS.items():
                    reply = await emu.slash(
                        guild.id, channel.id, people[name].id, "caption submit", text=caption
                    )
                    log.say(name, f"/caption submit “{caption}”")
                    log.say("Punchline", f"(only to {name}) {reply.content.splitlines()[0]}")
                dup = await emu.slash(
                    guild.id,
                    channel.id,
                    people["ben"].id,
                    "caption submit",
                    text="HONESTLY, the mailbox gets better reception than my flat.",
                )
                log.say("ben", "/caption submit (ana's caption, in capitals)")
                log.say("Punchline", f"(only to ben) {dup.content}")
                if ai is not None:
                    await _ask_the_model(emu, log, guild.id, channel.id, people)

                thread = await emu.wait_until(
                    lambda: next(iter(emu.state.guild_threads(guild.id)), None), "the voting thread"
                )
                log.say("Punchline", f"voting opened in thread '{thread.name}'")
                entries = await emu.wait_until(
                    lambda: _posted_entries(emu, thread.id, len(MEMBERS)),
                    "every entry posted with its emoji",
                )
                for message in entries:
                    log.say("Punchline", message.content.replace("\n>>> ", ": "))
                await _vote(emu, log, rng, thread.id, entries, people, other_bot)

                results = await emu.wait_for_message(channel.id, is_results)
                log.say("Punchline", "posted the results:")
                names = {f"<@{user.id}>": f"@{name}" for name, user in people.items()}
                for line in results.embeds[0]["description"].split("\n\n"):
                    for mention, name in names.items():
                        line = line.replace(mention, name)
                    print("               " + line.replace("\n", "\n               "))
                for field in results.embeds[0].get("fields", []):
                    print(f"               {field['name']}: {field['value']}")
                card_path.write_bytes(results.attachments[0].data)
                pinged = [
                    m
                    for m in emu.messages(channel.id) + emu.messages(thread.id)
                    if m.pinged_everyone or m.pinged_roles or m.pinged_users
                ]
                log.say("check", f"messages that pinged anyone: {len(pinged)}")
        finally:
            with contextlib.suppress(Exception):
                if ai is not None:
                    await ai.aclose()
                await store.close()
    log.say("done", f"database: {db_path.resolve()}  results card: {card_path.resolve()}")
    return card_path


async def _ask_the_model(emu, log, guild_id, channel_id, people) -> None:
    """A member asks for caption ideas and another for a joke (the local LLM, ranked by taste)."""
    idea = await emu.slash(guild_id, channel_id, people["dev"].id, "caption suggest")
    log.say("dev", "/caption suggest")
    log.say("Punchline", f"(only to dev) {idea.content.splitlines()[0]}")
    joke = await emu.slash(
        guild_id, channel_id, people["fay"].id, "joke", topic="penguins at a job interview"
    )
    log.say("fay", "/joke topic:penguins at a job interview")
    log.say("Punchline", joke.content.splitlines()[0])


def _posted_entries(emu: DiscordEmulator, thread_id: int, count: int) -> list[Message] | None:
    posted = [m for m in emu.messages(thread_id) if is_entry(m) and len(m.reactions) == 3]
    return posted if len(posted) == count else None


async def _vote(emu, log, rng, thread_id, entries, people, other_bot) -> None:
    """Each member rates the others' captions by how funny they are, with some noise."""
    author_of = {}
    for message in entries:
        author_of[message.id] = next(n for n, c in MEMBERS.items() if _same(c, message.content))
    for voter, user in people.items():
        for message in entries:
            author = author_of[message.id]
            if author == voter:
                continue
            score = TASTE[author] + rng.uniform(-0.35, 0.35)
            emoji = EMOJI[0 if score < 0.4 else 1 if score < 0.7 else 2]
            await emu.react(user.id, thread_id, message.id, emoji)
    log.say("members", f"{len(people)} members rated every entry but their own")
    flip = entries[0]
    await emu.react(people["ben"].id, thread_id, flip.id, "😂")
    log.say(
        "ben",
        f"changed his mind on {flip.content.splitlines()[0]}: now 😂 (replaces his old rating)",
    )
    own = next(m for m in entries if author_of[m.id] == "chloe")
    await emu.react(people["chloe"].id, thread_id, own.id, "😂")
    log.say("chloe", "reacted 😂 to her own entry (not counted; the bot removes it)")
    await emu.react(other_bot.id, thread_id, own.id, "😂")
    log.say("OtherBot", "reacted 😂 (bots don't vote; removed)")


def _same(caption: str, content: str) -> bool:
    from bot.text import quote_caption

    return quote_caption(caption) in content


def quiet_logging() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("discord", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
