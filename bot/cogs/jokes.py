"""/joke and /caption suggest: jokes from the local model that passed the gates (safe, fluent,
about the topic, not copied), ranked by the community's taste; a Next button walks through the
rest. Topics with mentions, links, blocked terms or instructions are refused politely, never
echoed. Moderators block terms with /mod."""

from __future__ import annotations

import logging
import re
import secrets
from collections import OrderedDict
from dataclasses import dataclass

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import PunchlineBot, reply
from bot.text import NO_PINGS, quote_caption
from ranker import (
    Joke,
    JokeRun,
    LLMError,
    ModelCrashed,
    ModelTimeout,
    sanitize_topic,
    topic_refusal,
)
from storage import contests, jokes, prompts

log = logging.getLogger(__name__)

SESSIONS_KEPT = 500
RANDOM_SCENES = (
    "Two office workers by the water cooler.",
    "A dog explaining something to a cat.",
    "A wizard waiting in line at the bank.",
    "A family picnic on the surface of the moon.",
)
REFUSALS = {  # why a topic is refused → what the member is told (the topic is never echoed)
    "mention": "I don't write jokes about people by mention. Try a topic without @s or #channels.",
    "link": "Topics can't contain links. Describe the idea in words instead!",
    "blocked": "That topic uses a term this server keeps out of jokes, so I'll sit this one out.",
    "instructions": "I take a topic, not instructions. Try something like “penguins at a job interview”.",
    "script": "I can only write jokes about topics in English for now, sorry!",
}
MODEL_DOWN = (
    "The joke model isn't answering right now (it may be restarting). Try again in a minute!"
)


@dataclass
class JokeSession:
    """One request's ranked jokes, for the Next button (kept in memory; gone after a restart)."""

    user_id: int
    guild_id: int | None
    kind: str
    topic: str
    remaining: list[Joke]


class NextJokeButton(
    discord.ui.DynamicItem[discord.ui.Button], template=r"joke:next:(?P<session>[0-9a-f]+)"
):
    def __init__(self, session: str) -> None:
        super().__init__(
            discord.ui.Button(
                label="Next",
                emoji="🔁",
                style=discord.ButtonStyle.secondary,
                custom_id=f"joke:next:{session}",
            )
        )
        self.session = session

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> NextJokeButton:
        return cls(match["session"])

    async def callback(self, interaction: discord.Interaction) -> None:
        cog: Jokes = interaction.client.get_cog("Jokes")  # type: ignore[assignment]
        await cog.show_next(interaction, self.session)


class Jokes(commands.Cog):
    def __init__(self, bot: PunchlineBot) -> None:
        self.bot = bot
        self.sessions: OrderedDict[str, JokeSession] = OrderedDict()

    async def serve(
        self, interaction: discord.Interaction, kind: str, topic: str, scene: str
    ) -> None:
        if self.bot.ai is None or not self.bot.ai.writes_jokes:
            await reply(
                interaction, "Joke generation is off on this bot (no language model is loaded)."
            )
            return
        await interaction.response.defer(ephemeral=kind == "suggestion", thinking=True)
        try:
            run: JokeRun = await self.bot.ai.jokes(
                interaction.guild_id, scene, cartoon=kind == "suggestion"
            )
        except (LLMError, ModelTimeout, ModelCrashed) as problem:  # the bot itself is unharmed
            log.warning("joke request failed: %s", problem)
            await reply(interaction, MODEL_DOWN)
            return
        if not run.jokes:
            await reply(
                interaction, "I couldn't come up with anything I'd show you this time. Try again?"
            )
            return
        session = secrets.token_hex(8)
        self.sessions[session] = JokeSession(
            interaction.user.id, interaction.guild_id, kind, topic, run.jokes
        )
        while len(self.sessions) > SESSIONS_KEPT:
            self.sessions.popitem(last=False)
        await self.show_next(interaction, session)

    async def show_next(self, interaction: discord.Interaction, session_id: str) -> None:
        session = self.sessions.get(session_id)
        if session is None:
            await reply(interaction, "That batch of jokes has expired; ask for a fresh one.")
            return
        if interaction.user.id != session.user_id:
            await reply(interaction, "Those jokes were made for someone else; try /joke yourself!")
            return
        if not session.remaining:
            await interaction.response.edit_message(
                content="That's all I had. Ask again for a new batch!", view=None
            )
            return
        joke = session.remaining.pop(0)
        await self.bot.store.call(
            jokes.log_joke,
            guild_id=session.guild_id,
            user_id=session.user_id,
            kind=session.kind,
            topic=session.topic or None,
            text=joke.text,
            score=joke.score,
            now=self.bot.clock.now(),
        )
        view = discord.ui.View(timeout=None)
        if session.remaining:
            view.add_item(NextJokeButton(session_id))
        hint = (
            "\n-# A suggestion only: it never enters the contest unless you submit it yourself."
            if session.kind == "suggestion"
            else ""
        )
        about = f"\n-# about “{quote_caption(session.topic)}”" if session.topic else ""
        content = f"{'💡' if session.kind == 'suggestion' else '🃏'} {quote_caption(joke.text)}{about}{hint}"
        if interaction.response.is_done():  # the first one fills in the deferred "thinking…"
            await interaction.edit_original_response(
                content=content, view=view, allowed_mentions=NO_PINGS
            )
        else:
            await interaction.response.edit_message(
                content=content, view=view, allowed_mentions=NO_PINGS
            )

    @app_commands.command(
        name="joke", description="A joke from the local model, ranked by this community's taste"
    )
    @app_commands.describe(topic="What the joke should be about (optional)")
    @app_commands.checks.cooldown(1, 20.0, key=lambda i: i.user.id)
    async def joke(
        self, interaction: discord.Interaction, topic: app_commands.Range[str, 1, 200] | None = None
    ) -> None:
        clean = sanitize_topic(topic)
        blocked = (
            await self.bot.store.call(jokes.blocked_terms, interaction.guild_id)
            if interaction.guild_id
            else []
        )
        refusal = topic_refusal(clean, blocked) if clean else None
        if refusal is not None:
            await reply(interaction, REFUSALS[refusal])
            return
        scene = clean or RANDOM_SCENES[secrets.randbelow(len(RANDOM_SCENES))]
        await self.serve(interaction, "joke", clean, scene)


async def suggest_caption(cog: Jokes, interaction: discord.Interaction) -> None:
    """What /caption suggest runs: ideas for today's prompt, from its description."""
    latest = await cog.bot.store.call(contests.latest_contest, interaction.guild_id)
    if latest is None or latest.phase != "submissions" or latest.prompt_id is None:
        await reply(
            interaction,
            "Suggestions are for a contest that's taking captions; there isn't one now.",
        )
        return
    prompt = await cog.bot.store.call(prompts.get_prompt, latest.prompt_id)
    await cog.serve(interaction, "suggestion", "", sanitize_topic(prompt.description))


async def setup(bot: PunchlineBot) -> None:
    bot.add_dynamic_items(NextJokeButton)
    await bot.add_cog(Jokes(bot))
