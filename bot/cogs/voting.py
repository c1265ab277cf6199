"""Raw reaction events → ratings (they fire whether or not the message is cached)."""

from __future__ import annotations

import discord
from discord.ext import commands

from bot.app import PunchlineBot


class Voting(commands.Cog):
    def __init__(self, bot: PunchlineBot) -> None:
        self.votes = bot.engine.votes

    @commands.Cog.listener()
    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        await self.votes.reaction_added(payload)

    @commands.Cog.listener()
    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        await self.votes.reaction_removed(payload)

    @commands.Cog.listener()
    async def on_raw_reaction_clear(self, payload: discord.RawReactionClearEvent) -> None:
        await self.votes.reactions_cleared(payload.message_id, None)

    @commands.Cog.listener()
    async def on_raw_reaction_clear_emoji(
        self, payload: discord.RawReactionClearEmojiEvent
    ) -> None:
        await self.votes.reactions_cleared(payload.message_id, str(payload.emoji))


async def setup(bot: PunchlineBot) -> None:
    await bot.add_cog(Voting(bot))
