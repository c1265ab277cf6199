"""The token never reaches the logs, and an internal failure shows members no paths or internals."""

from __future__ import annotations

import logging

from tests.bot.conftest import is_prompt, punchline, setup_contest


async def test_token_is_never_logged_even_at_debug_level(emu, server, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    async with punchline(emu, tmp_path / "p.db") as bot:
        await setup_contest(emu, server, bot)
        await emu.wait_for_message(server.channel.id, is_prompt, include_existing=True)
        await emu.slash(
            server.guild.id,
            server.channel.id,
            server.members["alice"].id,
            "caption submit",
            text="hi",
        )
    assert len(caplog.records) > 50, "DEBUG logging was really on"
    assert emu.token not in caplog.text


async def test_an_internal_failure_gets_an_apology_with_a_reference_only(emu, server, tmp_path):
    async with punchline(emu, tmp_path / "p.db") as bot:
        await setup_contest(emu, server, bot)
        await bot.store.call(lambda db: db.close())  # the database goes away under the bot
        answer = await emu.slash(
            server.guild.id, server.channel.id, server.members["alice"].id, "contest status"
        )
    assert answer.ephemeral
    assert answer.content.startswith("Sorry, something went wrong on my side (reference `")
    for leak in ("Traceback", "sqlite", str(tmp_path), ".py", "Error"):
        assert leak not in answer.content
