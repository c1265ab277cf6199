"""/bot status: the shards this process runs, each one's gateway latency and last catch-up."""

from __future__ import annotations

import math
from collections import Counter

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import PunchlineBot, reply
from bot.checks import moderator_only

SHARDS_LISTED = 15  # a Discord message holds 2,000 characters


def latency_text(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if math.isfinite(seconds) else "no heartbeat yet"


def shard_line(bot: PunchlineBot, shard_id: int, here: int, servers: int) -> str:
    info = bot.get_shard(shard_id)
    if info is None or info.is_closed():
        connection = "disconnected"
    else:
        connection = f"heartbeat {latency_text(info.latency)}"
    health = bot.shard_health.get(shard_id)
    if health is None or health.last_at is None:
        caught_up = "not caught up yet"
    else:
        caught_up = (
            f"caught up {discord.utils.format_dt(health.last_at, 'R')} after {health.last_reason}"
            f" in {health.last_seconds:.1f} s"
        )
    marker = " (this server)" if shard_id == here else ""
    return f"• shard {shard_id}{marker}: {connection} · {servers} servers · {caught_up}"


def shard_report(bot: PunchlineBot, guild_id: int) -> str:
    """What moderators see: this server's shard, then each shard of this process."""
    shards = bot.context.shards
    here = shards.shard_of(guild_id)
    servers = Counter(guild.shard_id for guild in bot.guilds)
    listed = sorted(shards.ids, key=lambda shard: (shard != here, shard))
    lines = [
        f"🛰️ This server is on shard **{here}** of {shards.count}; this process runs "
        f"{shards.describe()}."
    ]
    lines += [shard_line(bot, s, here, servers[s]) for s in listed[:SHARDS_LISTED]]
    if len(listed) > SHARDS_LISTED:
        rest = [bot.get_shard(s) for s in listed[SHARDS_LISTED:]]
        worst = max((info.latency for info in rest if info is not None), default=math.nan)
        lines.append(f"…and {len(rest)} more shards (slowest heartbeat {latency_text(worst)}).")
    return "\n".join(lines)


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class BotStatus(commands.GroupCog, group_name="bot", group_description="The bot itself"):
    def __init__(self, bot: PunchlineBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="status", description="Shards, gateway latency and catch-ups of this bot process"
    )
    @moderator_only()
    async def status(self, interaction: discord.Interaction) -> None:
        await reply(interaction, shard_report(self.bot, interaction.guild_id))


async def setup(bot: PunchlineBot) -> None:
    await bot.add_cog(BotStatus(bot))
