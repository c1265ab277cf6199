"""A whole day through discord.py and the emulator: prompt → captions → emoji votes → results."""

from __future__ import annotations

import io

from PIL import Image

from storage import open_database, votes
from tests.bot.conftest import is_entry, is_prompt, is_results, punchline, setup_contest


async def test_a_full_day(emu, server, tmp_path):
    m = server.members
    async with punchline(emu, tmp_path / "p.db") as bot:
        reply = await setup_contest(emu, server, bot)
        assert reply.ephemeral
        assert "Daily contest set" in reply.content
        prompt = await emu.wait_for_message(server.channel.id, is_prompt, include_existing=True)
        assert prompt.attachments
        assert prompt.attachments[0].filename == "prompt.png"

        submitted = await emu.slash(
            server.guild.id,
            server.channel.id,
            m["alice"].id,
            "caption submit",
            text="  I told you   we should have turned left. ",
        )
        assert submitted.ephemeral
        assert "I told you we should have turned left." in submitted.content
        await emu.slash(
            server.guild.id,
            server.channel.id,
            m["bob"].id,
            "caption submit",
            text="Is this the queue for the ark?",
        )
        await emu.slash(
            server.guild.id,
            server.channel.id,
            m["carol"].id,
            "caption submit",
            text="@everyone look <@&1234> **me**",
        )
        dup = await emu.slash(
            server.guild.id,
            server.channel.id,
            m["dave"].id,
            "caption submit",
            text="i told you we should have TURNED LEFT.",
        )
        assert "already in today's contest" in dup.content
        replaced = await emu.slash(
            server.guild.id,
            server.channel.id,
            m["bob"].id,
            "caption submit",
            text="Is this the line for the ark?",
        )
        assert "replaces your earlier caption" in replaced.content
        mine = await emu.slash(server.guild.id, server.channel.id, m["bob"].id, "caption mine")
        assert "line for the ark" in mine.content
        assert "queue" not in mine.content

        # voting opens: three entries posted in a thread under the prompt, each with 😂 🙂 😐
        thread_id = await emu.wait_until(
            lambda: next((c.id for c in emu.state.guild_threads(server.guild.id)), None),
            "the voting thread",
        )
        posted = await emu.wait_until(
            lambda: (
                [x for x in emu.messages(thread_id) if is_entry(x) and len(x.reactions) == 3]
                if len(
                    [x for x in emu.messages(thread_id) if is_entry(x) and len(x.reactions) == 3]
                )
                == 3
                else None
            ),
            "three entries with their reactions",
        )
        by_text = {msg.content.split(">>> ")[1]: msg for msg in posted}
        alice_msg = next(v for k, v in by_text.items() if "turned left" in k)
        bob_msg = next(v for k, v in by_text.items() if "ark" in k)
        carol_msg = next(v for k, v in by_text.items() if "everyone" in k)
        assert not carol_msg.pinged_everyone
        assert not carol_msg.pinged_roles

        late = await emu.slash(
            server.guild.id, server.channel.id, m["erin"].id, "caption submit", text="late"
        )
        assert "voting has started" in late.content

        for voter in ("bob", "carol", "dave"):
            await emu.react(m[voter].id, thread_id, alice_msg.id, "😂")
        await emu.react(m["erin"].id, thread_id, alice_msg.id, "🙂")
        await emu.react(m["alice"].id, thread_id, alice_msg.id, "😂")  # her own: refused, removed
        await emu.react(m["dave"].id, thread_id, bob_msg.id, "😂")
        await emu.react(m["dave"].id, thread_id, bob_msg.id, "😐")  # changed mind: replaces
        await emu.react(m["erin"].id, thread_id, carol_msg.id, "🙂")
        await emu.unreact(m["erin"].id, thread_id, carol_msg.id, "🙂")  # and took it back

        results = await emu.wait_for_message(server.channel.id, is_results)
        text = results.embeds[0]["description"]
        assert text.index("turned left") < text.index("ark")
        assert f"<@{m['alice'].id}>" in text
        assert not results.pinged_users
        card = Image.open(io.BytesIO(results.attachments[0].data))
        assert card.format == "PNG"
        assert card.width == 1000

    db = open_database(tmp_path / "p.db")
    ratings = {(r.voter_id, r.rating) for r in votes.contest_ratings(db, 1)}
    assert (m["alice"].id, 3) not in ratings  # no self-vote
    assert (m["dave"].id, 1) in ratings
    assert (m["dave"].id, 3) in ratings
    assert len(ratings) == 5
    assert m["alice"].id not in alice_msg.reactors("😂")  # the bot removed the self-vote
    assert emu.messages(server.channel.id).count(results) == 1
