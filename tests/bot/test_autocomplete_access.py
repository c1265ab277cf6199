"""Autocomplete answers only moderators where it would show what members must not see (defect 6).

Discord's ``default_permissions`` is a hint a server admin can override (Integrations), and
autocomplete runs no command check: the callbacks check for themselves.
"""

from __future__ import annotations

import io

from PIL import Image

from tests.bot.conftest import open_contest_now, punchline, submit


def picture() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 90, 200)).save(out, format="PNG")
    return out.getvalue()


async def test_disqualify_autocomplete_shows_unpublished_captions_to_moderators_only(
    emu, server, db_path, db
):
    """Defect 6: with /mod made visible to members, /mod disqualify's autocomplete returned the
    running contest's captions, unpublished, to a plain member."""
    m = server.members
    async with punchline(emu, db_path) as bot:
        await open_contest_now(emu, server, bot, db)
        await submit(emu, server, m["alice"], "Secret until the vote")

        async def suggestions(user) -> list[str]:
            typed = await emu.autocomplete(
                server.guild.id, server.channel.id, user.id, "mod disqualify", "entry", entry=""
            )
            return [c["name"] for c in typed.choices]

        assert await suggestions(server.mod) == ["Secret until the vote"]
        assert await suggestions(m["bob"]) == []
        assert await suggestions(m["alice"]) == []  # not even to the caption's author


async def test_prompt_pool_autocomplete_is_for_moderators_only(emu, server, db_path):
    """Defect 6: /prompt remove's (and /prompt next's) autocomplete listed the picture pool,
    descriptions of prompts still to come, to a plain member."""
    async with punchline(emu, db_path):
        added = await emu.slash(
            server.guild.id,
            server.channel.id,
            server.mod.id,
            "prompt add",
            image=("owl.png", picture()),
            description="An owl reading the news",
        )
        assert "Added prompt #1" in added.content

        async def suggestions(user, command: str) -> list[str]:
            typed = await emu.autocomplete(
                server.guild.id, server.channel.id, user.id, command, "prompt", prompt=""
            )
            return [c["name"] for c in typed.choices]

        for command in ("prompt remove", "prompt next"):
            assert await suggestions(server.mod, command) == ["#1 An owl reading the news"]
            assert await suggestions(server.members["carol"], command) == []
