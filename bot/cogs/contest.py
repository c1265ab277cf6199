"""/contest setup and /contest status: enough for a server to start its daily contest."""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import PunchlineBot, reply
from bot.checks import moderator_only
from bot.engine import schedule_of
from bot.rules.schedule import Schedule, next_opening, validate_schedule
from bot.text import timestamp
from storage import audit, contests, entries, guilds, votes


@cache
def _zones() -> list[str]:
    return sorted(available_timezones())


class Contest(
    commands.GroupCog, group_name="contest", group_description="Run the daily caption contest"
):
    def __init__(self, bot: PunchlineBot) -> None:
        self.bot = bot
        self.engine = bot.engine

    @app_commands.command(name="setup", description="Where and when the daily contest runs")
    @app_commands.describe(
        channel="Channel for prompts and results",
        timezone="Your community's time zone, e.g. Europe/Paris",
        post_time="Local time to post the prompt, 24-hour HH:MM",
        submission_minutes="How long submissions stay open (default 12 h)",
        voting_minutes="How long voting lasts (default 11 h)",
    )
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @moderator_only()
    async def setup(
        self,
        interaction: discord.Interaction,
        channel: discord.TextChannel,
        timezone: str = "UTC",
        post_time: str = "09:00",
        submission_minutes: app_commands.Range[int, 1, 1380] = 720,
        voting_minutes: app_commands.Range[int, 1, 1380] = 660,
    ) -> None:
        schedule = Schedule(
            timezone.strip(), post_time.strip(), submission_minutes * 60, voting_minutes * 60
        )
        validate_schedule(schedule)
        now = self.engine.clock.now()
        settings = await self.bot.store.call(
            guilds.update_settings,
            interaction.guild_id,
            now,
            channel_id=channel.id,
            timezone=schedule.timezone,
            post_time=schedule.post_time,
            submission_seconds=schedule.submission_seconds,
            voting_seconds=schedule.voting_seconds,
            enabled=1,
        )
        await self.bot.store.call(
            audit.log_action,
            interaction.guild_id,
            interaction.user.id,
            "contest.setup",
            f"channel:{channel.id}",
            {
                "timezone": schedule.timezone,
                "post_time": schedule.post_time,
                "submission_minutes": submission_minutes,
                "voting_minutes": voting_minutes,
            },
            now=now,
        )
        await interaction.response.defer(ephemeral=True, thinking=True)
        self.engine.arm_daily_post(settings)
        opened = await self.engine.open_due_contest(interaction.guild_id)
        when = next_opening(now, schedule)
        started = (
            f"\nToday's contest is open now in {channel.mention}."
            if opened
            else f"\nThe first prompt comes {timestamp(when)} ({timestamp(when, 'f')})."
        )
        await reply(
            interaction,
            f"✅ Daily contest set: {channel.mention}, {schedule.post_time} "
            f"{schedule.timezone}, {submission_minutes} min of submissions then "
            f"{voting_minutes} min of voting.{started}",
        )

    @setup.autocomplete("timezone")
    async def timezone_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        wanted = current.replace(" ", "_").casefold()
        return [app_commands.Choice(name=z, value=z) for z in _zones() if wanted in z.casefold()][
            :25
        ]

    @app_commands.command(name="status", description="Today's contest: phase, deadlines, entries")
    @app_commands.guild_only()
    async def status(self, interaction: discord.Interaction) -> None:
        settings = await self.engine.settings(interaction.guild_id)
        if settings is None or settings.channel_id is None:
            await reply(
                interaction,
                "No contest is set up here yet. A moderator can start one with **/contest setup**.",
            )
            return
        contest = await self.bot.store.call(contests.latest_contest, interaction.guild_id)
        upcoming = next_opening(self.engine.clock.now(), schedule_of(settings))
        lines = [
            f"Channel <#{settings.channel_id}> · daily at {settings.post_time} {settings.timezone}"
        ]
        if contest is not None and contest.phase != "closed":
            live = await self.bot.store.call(entries.contest_entries, contest.id)
            ratings = await self.bot.store.call(votes.contest_ratings, contest.id)
            deadline = contest.voting_at if contest.phase == "submissions" else contest.closes_at
            verb = "Submissions close" if contest.phase == "submissions" else "Voting closes"
            lines.append(
                f"**{contest.day}**: {contest.phase} · {len(live)} caption(s) · "
                f"{len(ratings)} rating(s) · {verb} {timestamp(deadline)}"
            )
        else:
            lines.append(f"Next prompt {timestamp(upcoming)}.")
        await reply(interaction, "\n".join(lines))


async def setup(bot: PunchlineBot) -> None:
    await bot.add_cog(Contest(bot))
