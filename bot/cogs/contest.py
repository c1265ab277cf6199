"""/contest: setting up and running the daily contest.

The group is shared with members (/contest status), and Discord has no per-subcommand
permission hint, so every moderator subcommand is guarded by ``moderator_only`` at run time.
"""

from __future__ import annotations

import asyncio
import logging
from functools import cache
from zoneinfo import available_timezones

import discord
from discord import app_commands
from discord.ext import commands

from bot import controls
from bot.app import PunchlineBot, reply
from bot.checks import moderator_only
from bot.pool_health import pool_line
from bot.roles import role_refusal
from bot.rules.gates import MAX_ENTRIES_PER_MEMBER, MAX_GATE_DAYS, describe_gates, gate_problem
from bot.rules.schedule import Phase, Schedule, next_opening, schedule_of, validate_schedule
from bot.text import timestamp
from storage import contests, entries, prompts, votes
from storage.audit import AuditEntry

log = logging.getLogger(__name__)


@cache
def _zones() -> list[str]:
    return sorted(available_timezones())


class Contest(
    commands.GroupCog, group_name="contest", group_description="Run the daily caption contest"
):
    def __init__(self, bot: PunchlineBot) -> None:
        self.bot = bot
        self.engine = bot.engine

    async def _save_schedule(
        self, interaction: discord.Interaction, schedule: Schedule, action: str, **more: int
    ) -> None:
        """Validate and store a schedule (plus ``more`` settings), audit it, re-arm the daily post."""
        validate_schedule(schedule)
        now = self.bot.clock.now()
        settings = await self.bot.context.update_settings(
            lambda settings: AuditEntry(
                interaction.guild_id,
                interaction.user.id,
                action,
                f"channel:{settings.channel_id}",
                {
                    "timezone": schedule.timezone,
                    "post_time": schedule.post_time,
                    "submission_minutes": schedule.submission_seconds // 60,
                    "voting_minutes": schedule.voting_seconds // 60,
                },
                now=now,
            ),
            interaction.guild_id,
            now,
            timezone=schedule.timezone,
            post_time=schedule.post_time,
            submission_seconds=schedule.submission_seconds,
            voting_seconds=schedule.voting_seconds,
            **more,
        )
        self.engine.arm_daily_post(settings)

    @app_commands.command(name="setup", description="Where and when the daily contest runs")
    @app_commands.describe(
        channel="Channel for prompts and results",
        timezone="Your community's time zone, e.g. Europe/Paris",
        post_time="Local time to post the prompt, 24-hour HH:MM",
        submission_minutes="How long submissions stay open (default 12 h)",
        voting_minutes="How long voting lasts (default 11 h)",
    )
    @app_commands.guild_only()
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
        now = self.bot.clock.now()
        await self._save_schedule(
            interaction, schedule, "contest.setup", channel_id=channel.id, enabled=1
        )
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

    @app_commands.command(name="schedule", description="Change when the daily contest runs")
    @app_commands.describe(
        timezone="Your community's time zone, e.g. Europe/Paris",
        post_time="Local time to post the prompt, 24-hour HH:MM",
        submission_minutes="How long submissions stay open",
        voting_minutes="How long voting lasts",
    )
    @app_commands.guild_only()
    @moderator_only()
    async def schedule(
        self,
        interaction: discord.Interaction,
        timezone: str | None = None,
        post_time: str | None = None,
        submission_minutes: app_commands.Range[int, 1, 1380] | None = None,
        voting_minutes: app_commands.Range[int, 1, 1380] | None = None,
    ) -> None:
        current = await self.bot.context.guild_settings(interaction.guild_id)
        if current is None or current.channel_id is None:
            await reply(interaction, "Set the contest up first with **/contest setup**.")
            return
        schedule = Schedule(
            (timezone or current.timezone).strip(),
            (post_time or current.post_time).strip(),
            submission_minutes * 60 if submission_minutes else current.submission_seconds,
            voting_minutes * 60 if voting_minutes else current.voting_seconds,
        )
        now = self.bot.clock.now()
        await self._save_schedule(interaction, schedule, "contest.schedule")
        when = next_opening(now, schedule)
        await reply(
            interaction,
            f"🗓️ From now on: {schedule.post_time} {schedule.timezone}, "
            f"{schedule.submission_seconds // 60} min of submissions then "
            f"{schedule.voting_seconds // 60} min of voting. Next prompt {timestamp(when)}. "
            "A contest already running keeps its times.",
        )

    @schedule.autocomplete("timezone")
    async def schedule_timezone_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await self.timezone_choices(interaction, current)

    @app_commands.command(
        name="start", description="Open today's contest now instead of at the post time"
    )
    @app_commands.guild_only()
    @moderator_only()
    async def start(self, interaction: discord.Interaction) -> None:
        contest, created = await controls.start_now(
            self.engine, interaction.guild_id, interaction.user.id
        )
        if created:
            await reply(
                interaction,
                f"▶️ Today's contest is open: submissions close {timestamp(contest.voting_at)}.",
            )
        else:
            await reply(
                interaction, f"Today's contest already exists ({contest.phase}); one contest a day."
            )

    @app_commands.command(
        name="close", description="End the current phase now (submissions → voting → results)"
    )
    @app_commands.guild_only()
    @moderator_only()
    async def close(self, interaction: discord.Interaction) -> None:
        ending = await controls.end_phase_now(
            self.engine, interaction.guild_id, interaction.user.id
        )
        await reply(interaction, ending.describe())
        finished = await asyncio.shield(ending.step)  # the step outlives this command if need be
        try:
            await interaction.followup.send(ending.outcome(finished), ephemeral=True)
        except discord.HTTPException as gone:  # 15 minutes passed: the token no longer works
            log.info("/contest close: could not send the follow-up: %s", gone)

    @app_commands.command(name="extend", description="Give the running phase more time")
    @app_commands.describe(minutes="How many more minutes")
    @app_commands.guild_only()
    @moderator_only()
    async def extend(
        self, interaction: discord.Interaction, minutes: app_commands.Range[int, 1, 720]
    ) -> None:
        contest = await controls.extend(
            self.engine, interaction.guild_id, minutes, interaction.user.id
        )
        deadline = contest.voting_at if contest.phase == "submissions" else contest.closes_at
        await reply(
            interaction,
            f"⏳ Extended by {minutes} min: the {contest.phase} phase now ends {timestamp(deadline)}.",
        )

    @app_commands.command(name="reopen", description="Reopen voting on the last closed contest")
    @app_commands.describe(minutes="How long voting stays open again")
    @app_commands.guild_only()
    @moderator_only()
    async def reopen(
        self, interaction: discord.Interaction, minutes: app_commands.Range[int, 1, 720] = 60
    ) -> None:
        contest = await controls.reopen(
            self.engine, interaction.guild_id, minutes, interaction.user.id
        )
        await reply(
            interaction,
            f"🔁 Voting on {contest.day} is open again until {timestamp(contest.closes_at)}; "
            "updated results follow.",
        )

    @app_commands.command(
        name="mode", description="How members vote: emoji on posted entries, or ballots"
    )
    @app_commands.describe(
        mode="emoji: 😂 🙂 😐 on each posted entry · ballot: a Vote button, one caption at a time"
    )
    @app_commands.choices(
        mode=[
            app_commands.Choice(name="emoji reactions", value="emoji"),
            app_commands.Choice(name="ballots (fairer: every caption seen)", value="ballot"),
        ]
    )
    @app_commands.guild_only()
    @moderator_only()
    async def mode(self, interaction: discord.Interaction, mode: str) -> None:
        now = self.bot.clock.now()
        await self.bot.context.update_settings(
            AuditEntry(
                interaction.guild_id,
                interaction.user.id,
                "contest.mode",
                None,
                {"mode": mode},
                now=now,
            ),
            interaction.guild_id,
            now,
            vote_mode=mode,
        )
        running = await self.bot.context.current_contest(interaction.guild_id)
        if running is not None and running.phase == Phase.VOTING:
            when = "from the next contest: today's is already voting and keeps the way it votes."
        else:
            when = "from the next time voting opens."
        await reply(interaction, f"🗳️ Voting mode: **{mode}**, {when}")

    @app_commands.command(
        name="roles", description="Who moderates the contest, and the season champion's role"
    )
    @app_commands.describe(
        moderator="Members with this role may run moderator commands (besides Manage Server)",
        champion="Given to each season's champion (the bot needs Manage Roles, above this role)",
    )
    @app_commands.guild_only()
    @moderator_only()
    async def roles(
        self,
        interaction: discord.Interaction,
        moderator: discord.Role | None = None,
        champion: discord.Role | None = None,
    ) -> None:
        for role, given_by_bot in ((moderator, False), (champion, True)):
            refusal = role and role_refusal(
                role, interaction.user, interaction.guild.me, given_by_bot=given_by_bot
            )
            if refusal:
                await reply(interaction, f"Nothing was changed. {refusal}")
                return
        now = self.bot.clock.now()
        await self.bot.context.update_settings(
            AuditEntry(
                interaction.guild_id,
                interaction.user.id,
                "contest.roles",
                None,
                {"moderator": moderator and moderator.id, "champion": champion and champion.id},
                now=now,
            ),
            interaction.guild_id,
            now,
            moderator_role_id=moderator.id if moderator else None,
            champion_role_id=champion.id if champion else None,
        )
        await reply(
            interaction,
            f"👥 Moderator role: {moderator.mention if moderator else 'none'} · "
            f"champion role: {champion.mention if champion else 'none'}. Server admins can "
            "also let the moderator role see these commands under Integrations.",
        )

    @app_commands.command(
        name="gates", description="Who may vote (account age, time in the server), entries each"
    )
    @app_commands.describe(
        account_age_days="Accounts younger than this many days can't vote (0: no minimum)",
        member_days="Members who joined fewer than this many days ago can't vote (0: no minimum)",
        entries_per_member="How many captions each member may have in one contest",
    )
    @app_commands.guild_only()
    @moderator_only()
    async def gates(
        self,
        interaction: discord.Interaction,
        account_age_days: app_commands.Range[int, 0, MAX_GATE_DAYS] | None = None,
        member_days: app_commands.Range[int, 0, MAX_GATE_DAYS] | None = None,
        entries_per_member: app_commands.Range[int, 1, MAX_ENTRIES_PER_MEMBER] | None = None,
    ) -> None:
        changes = {
            name: value
            for name, value in (
                ("min_account_age_days", account_age_days),
                ("min_member_days", member_days),
                ("max_entries_per_member", entries_per_member),
            )
            if value is not None
        }
        problem = gate_problem(changes)
        if problem:
            await reply(interaction, problem)
            return
        if not changes:
            settings = await self.bot.context.guild_settings(interaction.guild_id)
            await reply(interaction, f"{describe_gates(settings)}. Give a value to change one.")
            return
        now = self.bot.clock.now()
        settings = await self.bot.context.update_settings(
            AuditEntry(
                interaction.guild_id, interaction.user.id, "contest.gates", None, changes, now=now
            ),
            interaction.guild_id,
            now,
            **changes,
        )
        await reply(
            interaction,
            f"{describe_gates(settings)}. Votes are checked against these from now on; emoji "
            "votes already cast are checked again when voting closes.",
        )

    @app_commands.command(name="status", description="Today's contest: phase, deadlines, entries")
    @app_commands.guild_only()
    async def status(self, interaction: discord.Interaction) -> None:
        settings = await self.bot.context.guild_settings(interaction.guild_id)
        if settings is None or settings.channel_id is None:
            await reply(
                interaction,
                "No contest is set up here yet. A moderator can start one with **/contest setup**.",
            )
            return
        contest = await self.bot.store.call(contests.latest_contest, interaction.guild_id)
        upcoming = next_opening(self.bot.clock.now(), schedule_of(settings))
        lines = [
            f"Channel <#{settings.channel_id}> · daily at {settings.post_time} {settings.timezone}"
        ]
        if contest is not None and contest.phase != "closed":
            live = await self.bot.store.call(entries.contest_entries, contest.id)
            counts = await self.bot.store.call(votes.rating_counts, contest.id)
            rated = sum(
                sum(c) for entry_id, c in counts.items() if entry_id in {e.id for e in live}
            )
            deadline = contest.voting_at if contest.phase == "submissions" else contest.closes_at
            verb = "Submissions close" if contest.phase == "submissions" else "Voting closes"
            lines.append(
                f"**{contest.day}**: {contest.phase} · {len(live)} caption(s) · "
                f"{rated} rating(s) · {verb} {timestamp(deadline)}"
            )
        else:
            lines.append(f"Next prompt {timestamp(upcoming)}.")
        lines.append(describe_gates(settings))
        lines.append(
            pool_line(await self.bot.store.call(prompts.pool_health, interaction.guild_id))
        )
        await reply(interaction, "\n".join(lines))


async def setup(bot: PunchlineBot) -> None:
    await bot.add_cog(Contest(bot))
