"""Moderator controls over the running contest: start now, extend, end the phase, reopen.

Each takes the guild's lock like the scheduled steps do, writes the audit log, and re-arms the
phase jobs, so a moderator's action and the schedule never disagree.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from bot.rules.schedule import (
    ContestPlan,
    ContestTimes,
    Phase,
    ScheduleError,
    local_day,
    next_opening,
)
from storage import audit, contests
from storage.models import Contest

if TYPE_CHECKING:
    from bot.engine import ContestEngine


async def _audit(
    engine: ContestEngine,
    guild_id: int,
    actor_id: int,
    action: str,
    contest: Contest,
    details: dict,
) -> None:
    await engine.store.call(
        audit.log_action,
        guild_id,
        actor_id,
        action,
        f"contest:{contest.id}",
        details,
        now=engine.clock.now(),
    )


async def start_now(engine: ContestEngine, guild_id: int, actor_id: int) -> tuple[Contest, bool]:
    """Open today's contest now with the usual phase lengths; (contest, created).

    ``created`` is False when today's contest already exists (one contest per day).
    """
    from bot.engine import schedule_of

    async with engine.lock(guild_id):
        settings = await engine.ready_settings(guild_id)
        if settings is None:
            raise ScheduleError("Set the contest up first with /contest setup.")
        schedule, now = schedule_of(settings), engine.clock.now()
        voting_at = now + schedule.submission
        plan = ContestPlan(
            local_day(now, schedule.zone),
            ContestTimes(now, voting_at, voting_at + schedule.voting),
            catch_up=False,
        )
        return await engine.open_planned(settings, plan, actor_id=actor_id)


async def extend(engine: ContestEngine, guild_id: int, minutes: int, actor_id: int) -> Contest:
    """Push the running phase's deadline (and what follows) back by ``minutes``."""
    from bot.engine import schedule_of

    async with engine.lock(guild_id):
        contest = await engine.current_contest(guild_id)
        if contest is None:
            raise ScheduleError("No contest is running to extend.")
        delta = timedelta(minutes=minutes)
        next_post = next_opening(contest.opens_at, schedule_of(await engine.settings(guild_id)))
        if contest.closes_at + delta > next_post:
            raise ScheduleError("That would run into the next day's prompt; extend by less.")
        voting_at = contest.voting_at + delta if contest.phase == Phase.SUBMISSIONS else None
        await engine.store.call(
            contests.set_times, contest.id, voting_at=voting_at, closes_at=contest.closes_at + delta
        )
        await _audit(engine, guild_id, actor_id, "contest.extend", contest, {"minutes": minutes})
        contest = await engine.store.call(contests.get_contest, contest.id)
        engine.arm_phases(contest)
        return contest


async def end_phase_now(engine: ContestEngine, guild_id: int, actor_id: int) -> tuple[Phase, bool]:
    """End the running phase now: submissions → voting, or voting → closed with results.

    Returns the phase reached and whether Discord took every step (else it is retried shortly).
    """
    contest = await engine.current_contest(guild_id)
    if contest is None:
        raise ScheduleError("No contest is running.")
    async with engine.lock(guild_id):
        await _audit(
            engine, guild_id, actor_id, "contest.advance", contest, {"from": contest.phase}
        )
    if contest.phase == Phase.SUBMISSIONS:
        engine.cancel(f"voting:{contest.id}")
        return Phase.VOTING, await engine.run_step(
            f"voting:{contest.id}", engine.start_voting, contest.id
        )
    engine.cancel(f"close:{contest.id}")
    return Phase.CLOSED, await engine.run_step(
        f"close:{contest.id}", engine.close_contest, contest.id
    )


async def reopen(engine: ContestEngine, guild_id: int, minutes: int, actor_id: int) -> Contest:
    """Reopen the latest closed contest's voting for ``minutes``; results are posted again after."""
    async with engine.lock(guild_id):
        contest = await engine.store.call(contests.latest_contest, guild_id)
        if contest is None or contest.phase != Phase.CLOSED:
            raise ScheduleError("Only a closed contest can be reopened.")
        await engine.store.call(
            contests.reopen_voting, contest.id, engine.clock.now() + timedelta(minutes=minutes)
        )
        await _audit(engine, guild_id, actor_id, "contest.reopen", contest, {"minutes": minutes})
        contest = await engine.store.call(contests.get_contest, contest.id)
        engine.arm_phases(contest)
        return contest
