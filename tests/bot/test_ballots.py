"""Ballot mode through discord.py and the emulator: exposures logged, ratings only from the
member a caption was shown to, and the buttons still working after the bot restarts."""

from __future__ import annotations

from storage import open_database, votes
from tests.bot.conftest import is_prompt, press, punchline, setup_contest


def _rate_buttons(result) -> list[dict]:
    return [
        c
        for row in result.components
        for c in row.get("components", [])
        if c.get("custom_id", "").startswith("ballot:rate:")
    ]


async def test_ballots_show_each_caption_once_and_survive_a_restart(emu, server, tmp_path):
    m = server.members
    db_path = tmp_path / "p.db"
    async with punchline(emu, db_path) as bot:
        await emu.slash(
            server.guild.id, server.channel.id, server.mod.id, "contest mode", mode="ballot"
        )
        await setup_contest(emu, server, bot, submission_minutes=3, voting_minutes=60)
        prompt = await emu.wait_for_message(server.channel.id, is_prompt, include_existing=True)
        for name, text in (("alice", "first"), ("bob", "second"), ("carol", "third")):
            await emu.slash(
                server.guild.id, server.channel.id, m[name].id, "caption submit", text=text
            )
        await emu.wait_until(
            lambda: any(
                c.get("custom_id", "").startswith("ballot:open:")
                for row in emu.message(prompt.id).components
                for c in row.get("components", [])
            ),
            "the Vote button",
        )
        contest_id = 1
        ballot = await press(emu, prompt.id, f"ballot:open:{contest_id}", m["dave"].id)
        assert ballot.ephemeral
        assert ballot.embeds[0]["title"].startswith("Caption #")
        first = _rate_buttons(ballot)
        assert len(first) == 3

        stranger = await press(emu, ballot.original.id, first[0]["custom_id"], m["erin"].id)
        assert "wasn't yours" in stranger.content

        second = await press(emu, ballot.original.id, first[0]["custom_id"], m["dave"].id)
        assert second.embeds
        assert _rate_buttons(second)[0]["custom_id"] != first[0]["custom_id"]
        pending = _rate_buttons(second)[2]["custom_id"]  # 😐 on dave's second caption

    async with punchline(emu, db_path) as bot:  # a restart: the ephemeral ballot still works
        third = await press(emu, ballot.original.id, pending, m["dave"].id)
        assert _rate_buttons(third), "dave still has a third caption to rate"
        final = await press(
            emu, ballot.original.id, _rate_buttons(third)[1]["custom_id"], m["dave"].id
        )
        assert "rated every caption" in final.content

    db = open_database(db_path)
    ratings = sorted(r.rating for r in votes.contest_ratings(db, contest_id))
    assert ratings == [1, 2, 3]
    assert all(
        r.source == "ballot" and r.voter_id == m["dave"].id
        for r in votes.contest_ratings(db, contest_id)
    )
    exposures = votes.exposure_counts(db, contest_id)
    assert sorted(exposures.values()) == [1, 1, 1]  # each caption shown to dave exactly once
