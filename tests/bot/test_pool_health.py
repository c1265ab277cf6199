"""Pool health through the real client and the emulator: how many new pictures are left, a
warning once per low-water episode, and reruns that say so and never repeat yesterday."""

from __future__ import annotations

import datetime as dt
import io

from PIL import Image

from bot.pool_health import JOB_ID, check_pools
from storage import contests, open_database, prompts
from tests.bot.conftest import ClockFrom, is_prompt, punchline, run_job_now, setup_contest

START = dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.UTC)


def is_low_pool_warning(message) -> bool:
    return "picture pool" in message.content and "/prompt suggest" in message.content


def png(colour) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(out, format="PNG")
    return out.getvalue()


async def test_a_low_pool_is_announced_once_per_episode(emu, server, db_path, db):
    async with punchline(emu, db_path, clock=ClockFrom(START)) as bot:
        await setup_contest(emu, server, bot)  # seeds the four starters and uses one
        await emu.wait_for_message(server.channel.id, is_prompt, include_existing=True)
        status = await emu.slash(
            server.guild.id, server.channel.id, server.members["alice"].id, "contest status"
        )
        assert "🖼️ Picture pool: 3 new pictures left, of 4." in status.content

        assert bot.scheduler.get_job(JOB_ID) is not None
        run_job_now(bot, JOB_ID)  # the daily check, as the scheduler runs it
        warning = await emu.wait_for_message(
            server.channel.id, is_low_pool_warning, include_existing=True
        )
        assert "running low**: 3 new pictures left" in warning.content
        assert warning.pinged_users == set()
        assert not warning.pinged_everyone
        await check_pools(bot.context)  # the next day, still low: no second warning
        assert len([m for m in emu.messages(server.channel.id) if is_low_pool_warning(m)]) == 1

        await emu.slash(
            server.guild.id,
            server.channel.id,
            server.mod.id,
            "prompt add",
            image=("blue.png", png((0, 0, 255))),
            description="A blue square, thinking",
        )
        await check_pools(bot.context)  # four new pictures: the episode is over
        assert db.execute("SELECT count(*) FROM pool_warnings").fetchone()[0] == 0
        for prompt in prompts.list_prompts(db, server.guild.id)[1:3]:
            await emu.slash(
                server.guild.id, server.channel.id, server.mod.id, "prompt remove", prompt=prompt.id
            )
        listed = await emu.slash(server.guild.id, server.channel.id, server.mod.id, "prompt list")
        assert "🖼️ Picture pool: 2 new pictures left, of 3." in listed.content
        await check_pools(bot.context)  # low again: a new episode, a new warning
        warnings = [m for m in emu.messages(server.channel.id) if is_low_pool_warning(m)]
        assert len(warnings) == 2
        assert "2 new pictures left" in warnings[1].content


def used_before(db, guild_id: int, day: str, prompt_id: int) -> None:
    """A contest of an earlier day, closed and announced, that used ``prompt_id``."""
    moment = dt.datetime.fromisoformat(f"{day}T09:00:00+00:00")
    contest, _ = contests.open_contest(
        db,
        guild_id=guild_id,
        day=day,
        prompt_id=prompt_id,
        season_id=None,
        opens_at=moment,
        voting_at=moment,
        closes_at=moment,
        channel_id=None,
        now=moment,
    )
    db.execute(
        "UPDATE contests SET phase = 'closed', results_message_id = 1 WHERE id = ?", [contest.id]
    )
    prompts.mark_used(db, prompt_id, moment)


async def test_with_no_new_pictures_the_oldest_is_rerun_and_the_post_says_so(emu, server, db_path):
    alice = server.members["alice"]
    db = open_database(db_path)
    older, _ = prompts.add_prompt(
        db,
        server.guild.id,
        png((9, 9, 9)),
        "png",
        "An old friend",
        1,
        START,
        suggested_by=alice.id,
        credited=True,
    )
    yesterdays, _ = prompts.add_prompt(
        db, server.guild.id, png((8, 8, 8)), "png", "Yesterday", 1, START
    )
    used_before(db, server.guild.id, "2026-02-27", older.id)
    used_before(db, server.guild.id, "2026-03-01", yesterdays.id)
    async with punchline(emu, db_path, clock=ClockFrom(START)) as bot:
        await setup_contest(emu, server, bot)
        post = await emu.wait_for_message(server.channel.id, is_prompt, include_existing=True)
    text = post.embeds[0]["description"]
    assert text.startswith("An old friend")
    assert f"📸 Picture by <@{alice.id}>" in text
    assert (
        "🔁 A rerun: this picture was the prompt on 2026-02-27. The pool has no new pictures left"
        in text
    )


async def test_a_pool_holding_only_yesterdays_picture_falls_back_to_the_starters(
    emu, server, db_path
):
    db = open_database(db_path)
    yesterdays, _ = prompts.add_prompt(
        db, server.guild.id, png((8, 8, 8)), "png", "Yesterday", 1, START
    )
    used_before(db, server.guild.id, "2026-03-01", yesterdays.id)
    async with punchline(emu, db_path, clock=ClockFrom(START)) as bot:
        await setup_contest(emu, server, bot)
        post = await emu.wait_for_message(server.channel.id, is_prompt, include_existing=True)
    today = contests.latest_contest(db, server.guild.id)
    assert today.prompt_id != yesterdays.id
    assert "Yesterday" not in post.embeds[0]["description"]
    assert "rerun" not in post.embeds[0]["description"]
