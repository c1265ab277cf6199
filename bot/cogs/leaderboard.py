"""/leaderboard, /stats and /season: standings derived from every closed contest's placings."""

from __future__ import annotations

import asyncio
import io
import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot import render
from bot.acknowledge import PUBLIC
from bot.app import PunchlineBot, reply
from bot.checks import moderator_only
from bot.results import author_mention, author_name
from bot.text import NO_PINGS, clip, quote_caption
from storage import audit, seasons
from storage.audit import AuditEntry
from storage.privacy import is_former_member
from storage.seasons import Standing

log = logging.getLogger(__name__)
SHOWN = 10
MIN_CONTESTS_FOR_PLACING = 3


def order_standings(table: list[Standing], by: str) -> list[Standing]:
    """By points (storage's order), or by average placing among members with enough contests."""
    if by == "points":
        return table
    eligible = [s for s in table if s.contests >= MIN_CONTESTS_FOR_PLACING]
    return sorted(eligible, key=lambda s: (s.average_placing, -s.contests, s.author_id))


class Leaderboard(commands.Cog):
    def __init__(self, bot: PunchlineBot) -> None:
        self.bot = bot
        self.store = bot.store

    @app_commands.command(
        name="leaderboard", description="Season or all-time standings", extras={PUBLIC: True}
    )
    @app_commands.describe(scope="This season or all time", by="Total points, or average placing")
    @app_commands.choices(
        scope=[
            app_commands.Choice(name="this season", value="season"),
            app_commands.Choice(name="all time", value="all"),
        ],
        by=[
            app_commands.Choice(name="points", value="points"),
            app_commands.Choice(name="average placing", value="placing"),
        ],
    )
    @app_commands.guild_only()
    async def leaderboard(
        self, interaction: discord.Interaction, scope: str = "season", by: str = "points"
    ) -> None:
        season = (
            await self.store.call(seasons.current_season, interaction.guild_id)
            if scope == "season"
            else None
        )
        if scope == "season" and season is None:
            scope = "all"
        table = await self.store.call(
            seasons.standings, interaction.guild_id, season_id=season[0] if season else None
        )
        ordered = order_standings(table, by)[:SHOWN]
        measure = "points" if by == "points" else "average placing"
        names = await asyncio.gather(
            *(author_name(self.bot.context, interaction.guild_id, s.author_id) for s in ordered)
        )
        rows = [
            (
                name,
                f"{s.points} pts" if by == "points" else f"{s.average_placing:.0%}",
                f"{s.contests} contests · {s.wins} wins",
            )
            for name, s in zip(names, ordered, strict=True)
        ]
        card = await asyncio.to_thread(
            render.leaderboard_card, f"{season[1] if season else 'All time'} · by {measure}", rows
        )
        text = "\n".join(
            f"**{i}.** {author_mention(s.author_id)} — {figure} ({detail})"
            for i, (s, (_, figure, detail)) in enumerate(zip(ordered, rows, strict=True), start=1)
        )
        if by == "placing":
            text += f"\n-# Average placing: 0% is always first. Members with {MIN_CONTESTS_FOR_PLACING}+ contests."
        title = f"{quote_caption(season[1]) if season else 'All time'} · by {measure}"
        await interaction.followup.send(
            clip(f"🏅 **{title}**\n{text or 'No results yet.'}"),
            file=discord.File(io.BytesIO(card), "leaderboard.png"),
            allowed_mentions=NO_PINGS,
        )

    @app_commands.command(name="stats", description="Your (or a member's) contest record")
    @app_commands.guild_only()
    async def stats(
        self, interaction: discord.Interaction, member: discord.Member | None = None
    ) -> None:
        who = member or interaction.user
        table = await self.store.call(seasons.standings, interaction.guild_id)
        mine = next((s for s in table if s.author_id == who.id), None)
        if mine is None:
            await reply(interaction, f"{who.mention} hasn't been placed in a contest yet.")
            return
        rank = table.index(mine) + 1
        await reply(
            interaction,
            f"📊 {who.mention}: {mine.points} points over {mine.contests} contests, "
            f"{mine.wins} win(s), best placing #{mine.best_rank}, average placing "
            f"{mine.average_placing:.0%} (0% = always first). All-time rank #{rank} of {len(table)}.",
        )

    season = app_commands.Group(
        name="season",
        description="Contest seasons",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )

    @season.command(
        name="start",
        description="End the current season (announcing its winner) and start a new one",
    )
    @moderator_only()
    async def season_start(
        self, interaction: discord.Interaction, name: app_commands.Range[str, 1, 60]
    ) -> None:
        now = self.bot.clock.now()
        previous = await self.store.call(seasons.current_season, interaction.guild_id)
        await self.store.call(
            audit.audited,
            lambda started: AuditEntry(
                interaction.guild_id,
                interaction.user.id,
                "season.start",
                f"season:{started[0]}",
                {"name": name, "ended": started[1]},
                now=now,
            ),
            seasons.start_season,
            interaction.guild_id,
            name,
            now,
        )
        if previous is not None:
            await self._announce_champion(interaction.guild, previous)
        await reply(interaction, f"🏁 Season **{quote_caption(name)}** has started.")

    async def _announce_champion(self, guild: discord.Guild, season: tuple[int, str]) -> None:
        """Name the ended season's champion (pinging only them) and give them the role.

        The season's name is the moderator's text: shown quoted, never as a mention.
        """
        table = await self.store.call(seasons.standings, guild.id, season_id=season[0])
        settings = await self.bot.context.guild_settings(guild.id)
        if not table or settings is None or settings.channel_id is None:
            return
        champion = table[0]
        former = is_former_member(champion.author_id)
        channel = await self.bot.context.channel(settings.channel_id)
        await channel.send(
            f"👑 Season **{quote_caption(season[1])}** is over! Champion: "
            f"{author_mention(champion.author_id)} with {champion.points} points and "
            f"{champion.wins} win(s).",
            allowed_mentions=discord.AllowedMentions(
                everyone=False,
                roles=False,
                users=False if former else [discord.Object(champion.author_id)],
            ),
        )
        if settings.champion_role_id:
            await self._crown(guild, settings.champion_role_id, champion.author_id, season)

    async def _crown(
        self, guild: discord.Guild, role_id: int, champion_id: int, season: tuple[int, str]
    ) -> None:
        """Move the champion role from the last champion to the new one (to nobody when the new
        one is a former member).

        Without the members intent the cache holds almost no members: each one is fetched. A
        refusal (no Manage Roles, the role above the bot's) is logged, never raised.
        """
        role = guild.get_role(role_id)
        if role is None:
            return
        before = await self.store.call(seasons.season_before, guild.id, season[0])
        last = (
            await self.store.call(seasons.standings, guild.id, season_id=before) if before else []
        )
        holders = {m.id for m in role.members} | ({last[0].author_id} if last else set())
        for holder_id in holders - {champion_id}:
            holder = await self._member(guild, holder_id)
            if holder is not None and role in holder.roles:
                try:
                    await holder.remove_roles(role, reason="a new season champion")
                except discord.HTTPException as problem:
                    log.warning(
                        "guild %s: could not take the champion role back: %s", guild.id, problem
                    )
        member = await self._member(guild, champion_id)
        if member is None:
            return
        try:
            await member.add_roles(role, reason=f"champion of {season[1]}")
        except discord.HTTPException as problem:
            log.warning("guild %s: could not give the champion role: %s", guild.id, problem)

    @staticmethod
    async def _member(guild: discord.Guild, user_id: int) -> discord.Member | None:
        """The member from the cache or from Discord; None when they left (or are a pseudonym)."""
        if is_former_member(user_id):
            return None
        member = guild.get_member(user_id)
        if member is not None:
            return member
        try:
            return await guild.fetch_member(user_id)
        except discord.HTTPException:
            return None


async def setup(bot: PunchlineBot) -> None:
    await bot.add_cog(Leaderboard(bot))
