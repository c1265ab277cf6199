"""/privacy: a member downloads their data and erases it; nobody else can press their button."""

from __future__ import annotations

import json

from storage import open_database
from storage.privacy import ERASED_TEXT, member_data
from tests.bot.conftest import is_prompt, punchline, setup_contest


async def test_a_member_sees_and_erases_their_data(emu, server, tmp_path):
    alice, bob = server.members["alice"], server.members["bob"]
    async with punchline(emu, tmp_path / "p.db") as bot:
        await setup_contest(emu, server, bot, submission_minutes=30, voting_minutes=30)
        await emu.wait_for_message(server.channel.id, is_prompt, include_existing=True)
        await emu.slash(
            server.guild.id, server.channel.id, alice.id, "caption submit", text="My secret caption"
        )

        shown = await emu.slash(server.guild.id, server.channel.id, alice.id, "privacy show")
        assert shown.ephemeral
        assert "1 entries" in shown.content
        data = json.loads(shown.files[0].data)
        assert data["entries"][0]["text"] == "My secret caption"

        asked = await emu.slash(server.guild.id, server.channel.id, alice.id, "privacy delete")
        button = f"privacy:erase:{alice.id}"
        stranger = await emu.press_button(asked.original.id, button, bob.id)
        assert "for someone else" in stranger.content
        assert member_data(open_database(tmp_path / "p.db"), server.guild.id, alice.id)["entries"]

        done = await emu.press_button(asked.original.id, button, alice.id)
        await emu.wait_until(lambda: "Backups" in (done.content or ""), "the erasure's report")
        assert "1 caption(s) withdrawn from the running contest" in done.content

    db = open_database(tmp_path / "p.db")
    assert all(not rows for rows in member_data(db, server.guild.id, alice.id).values())
    texts = [row["text"] for row in db.query("SELECT text FROM entries")]
    assert texts == [ERASED_TEXT]
