"""The AI through the bot: results beside the crowd's, nightly refit with promotion and
rollback, /joke and /caption suggest, the taste report, and a crashing model that cannot stop
the results. Real bundled models (MiniLM + base adapter + Gemma 3 270M), loaded once."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.ai import CommunityAI
from bot.maintenance import arm_maintenance, nightly_refit, weekly_taste_reports
from ranker import Adapter, save_adapter
from storage import adapters, audit, contests, entries, guilds, open_database, votes
from storage.models import GuildSettings
from tests.bot.conftest import is_prompt, is_results, punchline, setup_contest
from tests.ranker.conftest import simulated_community


@pytest.fixture(scope="module")
def models():
    """The real ranker and LLM, shared by this module's tests (a worker thread and the LLM's
    process, both loop-agnostic)."""
    from ranker import AsyncLLM, AsyncRanker, Ranker

    ranker = AsyncRanker(Ranker(device="cpu"))
    llm = asyncio.run(AsyncLLM.start(None, device="cpu", seed=1))
    yield ranker, llm
    ranker._encoder_worker.close()
    asyncio.run(llm.aclose())


@contextlib.asynccontextmanager
async def bot_with_ai(emu, db_path, models, tmp_path) -> AsyncIterator:
    ranker, llm = models
    async with punchline(emu, db_path) as bot:
        bot.ai = CommunityAI(ranker, llm, bot.store, tmp_path / "adapters", bot.clock)
        yield bot


def store_community_history(db_path, guild_id: int, loves: str = "food") -> None:
    """Closed contests with the votes of a community that loves one topic (the ranker's simulator)."""
    db = open_database(db_path)
    start = datetime(2026, 1, 1, 9, tzinfo=UTC)
    guilds.save_settings(db, GuildSettings(guild_id=guild_id, channel_id=None), start)
    for contest_votes in simulated_community(contests=24, loves=loves, seed=3):
        day = start + timedelta(days=int(contest_votes.contest))
        contest, _ = contests.open_contest(
            db,
            guild_id=guild_id,
            day=day.date().isoformat(),
            prompt_id=None,
            season_id=None,
            opens_at=day,
            voting_at=day,
            closes_at=day,
            channel_id=None,
            now=day,
        )
        contests.advance_phase(db, contest.id, "submissions", "closed")
        voter = 10_000
        for author, caption in enumerate(contest_votes.captions):
            entry = entries.add_entry(
                db, contest.id, 500 + author, caption.caption, caption.caption.lower(), day
            )
            for rating, count in (
                (3, caption.funny),
                (2, caption.somewhat_funny),
                (1, caption.unfunny),
            ):
                for _ in range(count):
                    votes.record_vote(db, entry.id, voter, rating, "emoji", day)
                    voter += 1
    db.close()


async def test_refit_learns_the_community_and_rollback_restores_the_base(
    emu, server, tmp_path, models
):
    db_path = tmp_path / "p.db"
    store_community_history(db_path, server.guild.id)
    food = "Honestly, the lasagna is the least of our worries."
    work = "Honestly, the quarterly report is the least of our worries."
    async with bot_with_ai(emu, db_path, models, tmp_path) as bot:
        before = await bot.ai.rank(server.guild.id, "A cartoon.", [work, food])
        result = await bot.ai.refit(server.guild.id)
        assert result.promoted, result.reason
        assert result.accuracy_new > result.accuracy_current
        after = await bot.ai.rank(server.guild.id, "A cartoon.", [work, food])
        assert after.order[0] == 1, "the refitted adapter prefers the topic this community loves"
        status = await emu.slash(server.guild.id, server.channel.id, server.mod.id, "ranker status")
        assert "adapter **v1**" in status.content
        assert "promoted" in status.content
        back = await emu.slash(server.guild.id, server.channel.id, server.mod.id, "ranker rollback")
        assert "base adapter" in back.content
        again = await bot.ai.rank(server.guild.id, "A cartoon.", [work, food])
        assert again.scores == before.scores
    db = open_database(db_path)
    assert adapters.active_adapter(db, server.guild.id) is None
    assert [a.status for a in adapters.adapter_history(db, server.guild.id)] == ["rejected"]


async def test_an_adapter_fitted_on_another_encoder_is_not_applied_and_the_refit_replaces_it(
    emu, server, tmp_path, models
):
    """A community adapter fitted on the embeddings of an older encoder (say, before the shipped
    encoder delta changed) falls back to the base with a reason in /ranker status; the nightly
    refit starts from the base and records the encoder it ran."""
    db_path = tmp_path / "p.db"
    store_community_history(db_path, server.guild.id)
    ranker, _ = models
    base = ranker.adapter
    stale = Adapter(
        base.kind,
        base.feature_mean,
        base.feature_scale,
        dict(base.weights),
        {**base.metadata, "version": "old", "encoder": {"name": "older-encoder", "dimension": 384}},
    )
    path = save_adapter(stale, tmp_path / "stale.npz")
    db = open_database(db_path)
    adapters.register_adapter(
        db, server.guild.id, str(path), {}, promote=True, now=datetime(2026, 2, 1, tzinfo=UTC)
    )
    db.close()
    async with bot_with_ai(emu, db_path, models, tmp_path) as bot:
        assert await bot.ai.adapter_for(server.guild.id) is bot.ai.base
        status = await emu.slash(server.guild.id, server.channel.id, server.mod.id, "ranker status")
        assert "**base adapter**" in status.content
        assert "v1 not applied" in status.content
        assert "older-encoder" in status.content
        result = await bot.ai.refit(server.guild.id)
        assert result.adapter.metadata["parent_version"] == base.version
        assert result.adapter.encoder_name == ranker.ranker.encoder.name
        if result.promoted:
            assert await bot.ai.fallback_reason(server.guild.id) is None


async def test_taste_report_names_what_the_community_rewards(emu, server, tmp_path, models):
    db_path = tmp_path / "p.db"
    store_community_history(db_path, server.guild.id)
    async with bot_with_ai(emu, db_path, models, tmp_path):
        report = await emu.slash(server.guild.id, server.channel.id, server.mod.id, "ranker report")
        assert "Taste report" in report.content
        assert report.files[0].filename == "taste.png"
        assert "picked the crowd's winner" in report.content


async def test_results_show_the_ai_beside_the_crowd_and_survive_a_crashing_model(
    emu, server, tmp_path, models
):
    m = server.members
    async with bot_with_ai(emu, tmp_path / "p.db", models, tmp_path) as bot:
        await setup_contest(emu, server, bot, submission_minutes=600, voting_minutes=600)
        await emu.wait_for_message(server.channel.id, is_prompt, include_existing=True)
        for name, text in (
            ("alice", "Nobody told me the ark was BYOB."),
            ("bob", "I asked for a window seat."),
        ):
            await emu.slash(
                server.guild.id, server.channel.id, m[name].id, "caption submit", text=text
            )
        suggestion = await emu.slash(
            server.guild.id, server.channel.id, m["carol"].id, "caption suggest"
        )
        assert suggestion.ephemeral
        assert suggestion.content.startswith("💡")
        assert "never enters the contest" in suggestion.content
        assert len(await bot.store.call(entries.contest_entries, 1)) == 2  # suggestions never enter

        await emu.slash(
            server.guild.id, server.channel.id, server.mod.id, "contest close"
        )  # → voting
        await emu.slash(
            server.guild.id, server.channel.id, server.mod.id, "contest close"
        )  # → results
        results = await emu.wait_for_message(server.channel.id, is_results, include_existing=True)
        field = results.embeds[0]["fields"][0]
        assert "The AI's ranking" in field["name"]
        assert re.search(
            r"Chance its pick beats its runner-up with the crowd: \d+%", field["value"]
        )

        async def broken_rank(*args, **kwargs):
            raise RuntimeError("model crashed")

        bot.ai.rank = (
            broken_rank  # the model process dies: a fault injected where no real one can be
        )
        await emu.slash(
            server.guild.id, server.channel.id, server.mod.id, "contest reopen", minutes=5
        )
        await emu.slash(server.guild.id, server.channel.id, server.mod.id, "contest close")
        second = await emu.wait_until(
            lambda: (lambda r: r[1] if len(r) > 1 else None)(
                [x for x in emu.messages(server.channel.id) if is_results(x)]
            ),
            "results posted again",
        )
        assert "unavailable" in second.embeds[0]["footer"]["text"]
        assert not second.embeds[0].get("fields")
    actions = [
        a.action
        for a in audit.recent_actions(open_database(tmp_path / "p.db"), server.guild.id, limit=50)
    ]
    assert "ranker.unavailable" in actions


async def test_joke_has_a_next_button_only_its_asker_can_press(emu, server, tmp_path, models):
    alice, bob = server.members["alice"], server.members["bob"]
    async with bot_with_ai(emu, tmp_path / "p.db", models, tmp_path):
        joke = await emu.slash(
            server.guild.id, server.channel.id, alice.id, "joke", topic="penguins"
        )
        first = joke.content
        assert first.startswith("🃏")
        buttons = [c["custom_id"] for row in joke.components for c in row["components"]]
        if not buttons:
            pytest.skip("the model produced a single showable joke this time")  # pragma: no cover
        stranger = await emu.press_button(joke.original.id, buttons[0], bob.id)
        assert "someone else" in stranger.content
        following = await emu.press_button(joke.original.id, buttons[0], alice.id)
        assert following.content.startswith("🃏")
        assert following.content != first  # the same message, now showing the next joke
        cooldown = await emu.slash(server.guild.id, server.channel.id, alice.id, "joke")
        assert "Slow down" in cooldown.content


async def test_a_hung_model_is_cut_off_and_the_crowd_s_results_still_come(
    emu, server, tmp_path, models
):
    """The ranker never answers (a wedged GPU driver, a dead model server): after the
    configured timeout the results go out with the crowd's ranking, and moderators are told."""
    m = server.members
    async with bot_with_ai(emu, tmp_path / "p.db", models, tmp_path) as bot:
        bot.settings = replace(bot.settings, ai_timeout_s=1)

        async def hung_rank(*args, **kwargs):
            await asyncio.Event().wait()  # a fault injected where no real hang can be summoned

        bot.ai.rank = hung_rank
        await setup_contest(emu, server, bot, submission_minutes=600, voting_minutes=600)
        await emu.wait_for_message(server.channel.id, is_prompt, include_existing=True)
        for name, text in (("alice", "It's a pun, not a bug."), ("bob", "Try turning it off.")):
            await emu.slash(
                server.guild.id, server.channel.id, m[name].id, "caption submit", text=text
            )
        started = time.monotonic()
        await emu.slash(server.guild.id, server.channel.id, server.mod.id, "contest close")
        await emu.slash(server.guild.id, server.channel.id, server.mod.id, "contest close")
        results = await emu.wait_for_message(server.channel.id, is_results, include_existing=True)
        assert time.monotonic() - started < 30
        assert "unavailable" in results.embeds[0]["footer"]["text"]
        assert "Entry #1" in results.embeds[0]["description"]
        status = await emu.slash(server.guild.id, server.channel.id, server.mod.id, "ranker status")
        assert "unavailable" in status.content
        assert "TimeoutError" in status.content


async def test_a_failing_refit_keeps_the_old_adapter_and_the_other_communities_go_on(
    emu, server, tmp_path, models, caplog
):
    """Guild A's adapter folder can't be written (a real OSError, here a file where the folder
    should be); the nightly job logs it, A stays on its adapter, and guild B's refit still runs."""
    db_path = tmp_path / "p.db"
    other = 424242
    store_community_history(db_path, server.guild.id)
    store_community_history(db_path, other)
    db = open_database(db_path)
    for guild_id in (server.guild.id, other):
        guilds.update_settings(db, guild_id, datetime.now(UTC), channel_id=server.channel.id)
    db.close()
    (tmp_path / "adapters").mkdir()
    (tmp_path / "adapters" / str(server.guild.id)).write_text("not a folder")
    async with bot_with_ai(emu, db_path, models, tmp_path) as bot:
        await nightly_refit(bot.context)
        failed = [r for r in caplog.records if "refit failed" in r.getMessage()]
        assert [r.getMessage() for r in failed] == [
            f"guild {server.guild.id}: refit failed; the current adapter stays"
        ]
        assert isinstance(failed[0].exc_info[1], OSError)
        assert await bot.store.call(adapters.active_adapter, server.guild.id) is None
        promoted = await bot.store.call(adapters.active_adapter, other)
        assert promoted is not None
        assert promoted.version == 1
        ranked = await bot.ai.rank(server.guild.id, "A cartoon.", ["One.", "Two."])
        assert ranked.adapter_version == bot.ai.base.version  # still answering, on the old one


async def test_weekly_taste_report_is_posted_where_moderators_enabled_it(
    emu, server, tmp_path, models
):
    db_path = tmp_path / "p.db"
    store_community_history(db_path, server.guild.id)
    db = open_database(db_path)
    guilds.update_settings(db, server.guild.id, datetime.now(UTC), channel_id=server.channel.id)
    db.close()

    def reports() -> list:
        return [x for x in emu.messages(server.channel.id) if "Taste report" in (x.content or "")]

    async with bot_with_ai(emu, db_path, models, tmp_path) as bot:
        await weekly_taste_reports(bot.context)
        assert reports() == [], "off until a moderator turns it on"
        with pytest.raises(PermissionError):  # Discord hides /ranker from plain members
            await emu.slash(
                server.guild.id,
                server.channel.id,
                server.members["alice"].id,
                "ranker weekly",
                enabled=True,
            )
        on = await emu.slash(
            server.guild.id, server.channel.id, server.mod.id, "ranker weekly", enabled=True
        )
        assert "every Monday" in on.content
        arm_maintenance(
            bot.scheduler, bot.context
        )  # at start the bot arms it only when the AI loaded
        assert "day_of_week='mon'" in str(bot.scheduler.get_job("weekly_taste_reports").trigger)
        await weekly_taste_reports(bot.context)
        posted = reports()
        assert len(posted) == 1
        assert posted[0].author_id == bot.user.id
        assert posted[0].type == 0  # a plain channel post for everyone, not a command's reply
        assert posted[0].attachments[0].filename == "taste.png"
        assert posted[0].attachments[0].data.startswith(b"\x89PNG")
        await emu.slash(
            server.guild.id, server.channel.id, server.mod.id, "ranker weekly", enabled=False
        )
        await weekly_taste_reports(bot.context)
        assert len(reports()) == 1
