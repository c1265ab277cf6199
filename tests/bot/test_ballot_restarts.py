"""Ballot voting across restarts: announced once (defect 11), and a contest keeps the way it
votes when the mode is switched during its voting (defect 12)."""

from __future__ import annotations

from discord_emulator import DiscordEmulator, Message
from storage import contests
from tests.bot.conftest import (
    Server,
    is_entry,
    is_prompt,
    punchline,
    setup_contest,
    startup_finished,
    submit,
)


def vote_buttons(message: Message) -> list[str]:
    return [
        c["custom_id"]
        for row in message.components
        for c in row.get("components", [])
        if c.get("custom_id", "").startswith("ballot:open:")
    ]


def voting_notices(emu: DiscordEmulator, server: Server) -> list[Message]:
    return [m for m in emu.messages(server.channel.id) if "Voting is open" in m.content]


async def ballot_voting_open(emu: DiscordEmulator, server: Server, bot) -> Message:
    """A ballot-mode contest with two captions, its voting open; returns the prompt message."""
    await emu.slash(
        server.guild.id, server.channel.id, server.mod.id, "contest mode", mode="ballot"
    )
    await setup_contest(emu, server, bot, submission_minutes=3, voting_minutes=600)
    prompt = await emu.wait_for_message(server.channel.id, is_prompt, include_existing=True)
    await submit(emu, server, server.members["alice"], "Knock knock")
    await submit(emu, server, server.members["bob"], "Who's there")
    await emu.wait_until(lambda: vote_buttons(emu.message(prompt.id)), "the Vote button")
    await emu.wait_until(lambda: voting_notices(emu, server), "the voting notice")
    return prompt


async def test_restarts_during_ballot_voting_announce_it_once(emu, server, db_path):
    """Defect 11: every restart during ballot voting posted another "🗳️ Voting is open"."""
    async with punchline(emu, db_path) as bot:
        prompt = await ballot_voting_open(emu, server, bot)
    for _ in range(2):
        async with punchline(emu, db_path):
            await startup_finished()
    assert len(voting_notices(emu, server)) == 1
    assert len(vote_buttons(emu.message(prompt.id))) == 1


async def test_a_restart_between_the_notice_and_the_button_finishes_without_a_second_notice(
    emu, server, db_path
):
    """Defect 11: the bot announces ballot voting, then puts the Vote button on the prompt. Killed
    between the two (played here by taking the button off), it adds the button on restart and
    recognises the notice it already posted."""
    async with punchline(emu, db_path) as bot:
        prompt = await ballot_voting_open(emu, server, bot)
    emu.message(prompt.id).components = []
    async with punchline(emu, db_path):
        await startup_finished()
        await emu.wait_until(lambda: vote_buttons(emu.message(prompt.id)), "the Vote button back")
    assert len(voting_notices(emu, server)) == 1


async def test_switching_mode_during_voting_applies_from_the_next_contest(emu, server, db_path, db):
    """Defect 12: a contest voting by ballot, the mode switched to emoji, a restart: the contest
    also got an entry thread with emoji. It keeps voting by ballot, and the moderator is told
    the switch applies from the next contest."""
    async with punchline(emu, db_path) as bot:
        prompt = await ballot_voting_open(emu, server, bot)
        switched = await emu.slash(
            server.guild.id, server.channel.id, server.mod.id, "contest mode", mode="emoji"
        )
        assert "already voting and keeps the way it votes" in switched.content
        assert "from the next contest" in switched.content
    async with punchline(emu, db_path):
        await startup_finished()
    contest = contests.latest_contest(db, server.guild.id)
    assert contest.thread_id is None
    posted = [m for m in emu.state.messages.values() if is_entry(m)]
    assert posted == []
    assert vote_buttons(emu.message(prompt.id)) == [f"ballot:open:{contest.id}"]
