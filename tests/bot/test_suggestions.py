"""Members suggest pictures, moderators review them: through the real discord.py client and the
emulator, across a restart, with the refusals a busy server produces.

The verdict reaches the member by DM (``POST /users/@me/channels``); the first two tests close
the member's DMs to check the fallback (the moderator is told, the member reads the verdict with
/prompt mine), and one test reads a delivered DM.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from PIL import Image

from discord_emulator.permissions import Permission
from storage import audit, prompts, suggestions
from testkit import build_server
from tests.bot.conftest import ClockFrom, is_prompt, punchline, setup_contest

START = dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.UTC)


def picture(colour=(200, 30, 30), size=(64, 48), fmt="JPEG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format=fmt)
    return out.getvalue()


async def suggest(emu, server, member, image: bytes, **options):
    return await emu.slash(
        server.guild.id,
        server.channel.id,
        member.id,
        "prompt suggest",
        image=("mine.jpg", image),
        **options,
    )


async def review(emu, server, user=None):
    return await emu.slash(
        server.guild.id, server.channel.id, (user or server.mod).id, "prompt queue"
    )


async def press(emu, message, custom_id: str, user, expect: str):
    """Press a review button; returns the review message once the bot's answer shows ``expect``."""
    pressed = await emu.press_button(message.id, custom_id, user.id)
    return await emu.wait_until(
        lambda: pressed.original if expect in (pressed.content or "") else None,
        f"the answer {expect!r}",
    )


def buttons(message) -> list[str]:
    return [c["custom_id"] for row in message.components for c in row.get("components", [])]


async def test_a_suggestion_is_approved_after_a_restart_and_credited_without_a_ping(
    emu, server, db_path, db
):
    alice = server.members["alice"]
    emu.set_dms_open(alice.id, False)
    async with punchline(emu, db_path, clock=ClockFrom(START)):
        asked = await suggest(emu, server, alice, picture(), description="A red square, smug")
        assert "waiting for the moderators (1 in the queue)" in asked.content
        assert asked.ephemeral
        first, stale, staler = [await review(emu, server) for _ in range(3)]
        assert first.embeds[0]["title"] == "Picture suggestion #1"
        assert first.files[0].filename == "suggestion.jpg"
        assert buttons(first.original) == ["suggestion:approve:1", "suggestion:decline:1"]

    async with punchline(emu, db_path, clock=ClockFrom(START + dt.timedelta(hours=1))) as bot:
        refused = await emu.press_button(first.original.id, "suggestion:approve:1", alice.id)
        assert "Only moderators" in refused.content
        assert suggestions.count_pending(db, server.guild.id) == 1

        approved = await press(emu, first.original, "suggestion:approve:1", server.mod, "Approved")
        assert f"prompt #1 now (credited to <@{alice.id}>)" in approved.content
        assert "couldn't DM them" in approved.content
        assert "No picture suggestions are waiting" in approved.content
        assert buttons(approved) == []

        again = await press(emu, stale.original, "suggestion:approve:1", server.mod, "already")
        assert f"already approved by <@{server.mod.id}>" in again.content
        late = await press(emu, staler.original, "suggestion:decline:1", server.mod, "already")
        assert late.content.startswith("Suggestion #1 was already approved")

        news = await emu.slash(server.guild.id, server.channel.id, alice.id, "prompt mine")
        assert "was approved" in news.content
        assert "credited to you" in news.content
        quiet = await emu.slash(server.guild.id, server.channel.id, alice.id, "prompt mine")
        assert "no news" in quiet.content

        await setup_contest(emu, server, bot)
        post = await emu.wait_for_message(server.channel.id, is_prompt, include_existing=True)
        assert f"📸 Picture by <@{alice.id}>" in post.embeds[0]["description"]
        assert post.pinged_users == set()

    lines = [(a.action, a.target, a.actor_id) for a in audit.recent_actions(db, server.guild.id)]
    assert lines.count(("prompt.approve", "suggestion:1", server.mod.id)) == 1
    assert not any(action == "prompt.decline" for action, _, _ in lines)
    assert prompts.count_prompts(db, server.guild.id) == 1


async def test_a_decline_asks_for_a_reason_deletes_the_picture_and_the_member_reads_it(
    emu, server, db_path, db
):
    bob = server.members["bob"]
    emu.set_dms_open(bob.id, False)
    async with punchline(emu, db_path, clock=ClockFrom(START)):
        await suggest(emu, server, bob, picture((0, 90, 200)), anonymous=True)
        queue = await review(emu, server)
        assert "asked not to be credited" in str(queue.embeds[0]["fields"])
        opened = await emu.press_button(queue.original.id, "suggestion:decline:1", server.mod.id)
        assert opened.modal is not None
        await emu.submit_modal(opened, {"reason": "Too blurry to caption"})
        declined = await emu.wait_until(
            lambda: queue.original if "Declined #1" in queue.original.content else None
        )
        assert "its picture is deleted" in declined.content
        assert db.execute("SELECT image FROM prompt_suggestions").fetchall() == [(None,)]
        assert prompts.count_prompts(db, server.guild.id) == 0

        news = await emu.slash(server.guild.id, server.channel.id, bob.id, "prompt mine")
        assert "was declined" in news.content
        assert "Reason: Too blurry to caption" in news.content
        assert db.execute("SELECT count(*) FROM prompt_suggestions").fetchone()[0] == 0
    entry = audit.recent_actions(db, server.guild.id)[0]
    assert (entry.action, entry.target, entry.details) == (
        "prompt.decline",
        "suggestion:1",
        {"reason": "Too blurry to caption"},
    )


async def test_a_delivered_verdict_arrives_by_dm_and_echoes_nothing_unsafe(
    emu, server, db_path, db
):
    """With DMs open the declined member reads the verdict in a DM: their markdown shown as
    typed, no ping, and nothing left for /prompt mine."""
    dave = server.members["dave"]
    async with punchline(emu, db_path, clock=ClockFrom(START)):
        await suggest(emu, server, dave, picture((90, 0, 90)), description="A *bold* cat @everyone")
        queue = await review(emu, server)
        opened = await emu.press_button(queue.original.id, "suggestion:decline:1", server.mod.id)
        await emu.submit_modal(opened, {"reason": "Blurry"})
        await emu.wait_until(lambda: "Declined #1" in queue.original.content, "the decline")
        [dm] = await emu.wait_until(
            lambda: emu.messages(emu.dm_channel(dave.id).id) if emu.dm_channel(dave.id) else None,
            "the verdict's DM",
        )
        assert "was declined" in dm.content
        assert "Reason: Blurry" in dm.content
        assert "\\*bold\\*" in dm.content  # the member's markdown shown as typed
        assert dm.pinged_users == set()
        assert "@everyone" not in dm.content.replace("@\u200beveryone", "")
        news = await emu.slash(server.guild.id, server.channel.id, dave.id, "prompt mine")
        assert "no news" in news.content or "no picture suggestions" in news.content


async def test_a_member_who_erased_their_data_leaves_nothing_to_approve(emu, server, db_path, db):
    carol = server.members["carol"]
    async with punchline(emu, db_path, clock=ClockFrom(START)):
        await suggest(emu, server, carol, picture((10, 200, 10)), description="A green field")
        queue = await review(emu, server)
        shown = await emu.slash(server.guild.id, server.channel.id, carol.id, "privacy show")
        assert "1 picture suggestions" in shown.content
        asked = await emu.slash(server.guild.id, server.channel.id, carol.id, "privacy delete")
        done = await emu.press_button(asked.original.id, f"privacy:erase:{carol.id}", carol.id)
        await emu.wait_until(lambda: "Backups" in (done.content or ""), "the erasure's report")
        assert "1 picture suggestion(s)" in done.content

        gone = await press(emu, queue.original, "suggestion:approve:1", server.mod, "not in")
        assert "erased their data" in gone.content
    assert prompts.count_prompts(db, server.guild.id) == 0
    assert not any(a.action == "prompt.approve" for a in audit.recent_actions(db, server.guild.id))


async def test_a_forged_or_foreign_button_changes_nothing(emu, server, db_path, db):
    other = build_server(emu, "Other Club", ("zoe",))
    async with punchline(emu, db_path, clock=ClockFrom(START)):
        await suggest(emu, other, other.members["zoe"], picture((1, 2, 3)))
        await suggest(emu, server, server.members["dave"], picture((4, 5, 6)))
        queue = await review(emu, server)
        foreign = await emu.wait_until(
            lambda: suggestions.next_for_review(db, other.guild.id), "the other guild's suggestion"
        )
        forged = f"suggestion:approve:{foreign[0].id}"
        queue.original.components[0]["components"][0]["custom_id"] = forged  # a tampered client
        answer = await press(emu, queue.original, forged, server.mod, "not in this server")
        assert answer.embeds  # the real suggestion is still shown, still waiting
        assert suggestions.count_pending(db, other.guild.id) == 1

        malformed = "suggestion:approve:1; DROP TABLE prompts"
        queue.original.components[0]["components"][0]["custom_id"] = malformed
        emu.timeout = 1.5
        with pytest.raises(TimeoutError):  # no handler matches: discord.py never answers it
            await emu.press_button(queue.original.id, malformed, server.mod.id)
    assert suggestions.count_pending(db, server.guild.id) == 1
    assert prompts.count_prompts(db, other.guild.id) == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not an image at all" * 100, "couldn't read that"),
        (picture(fmt="PNG")[:60], "damaged or incomplete"),
        (b"GIF89a" + b"\x00" * 10, "couldn't read that"),
        ("bomb", "too large to process"),
        ("tiff", "please upload a PNG, JPEG, WebP or GIF"),
    ],
    ids=["not-an-image", "truncated", "gif-header-only", "pixel-bomb", "tiff"],
)
async def test_hostile_pictures_are_refused_and_queue_nothing(
    emu, server, db_path, db, data, message
):
    if data == "bomb":  # 50 megapixels in a few kilobytes: refused from the header alone
        out = io.BytesIO()
        Image.new("1", (10_000, 5_000)).save(out, format="PNG")
        data = out.getvalue()
    elif data == "tiff":
        out = io.BytesIO()
        Image.new("RGB", (8, 8)).save(out, format="TIFF")
        data = out.getvalue()
    async with punchline(emu, db_path, clock=ClockFrom(START)):
        answer = await suggest(emu, server, server.members["erin"], data)
        assert message in answer.content
    assert suggestions.count_pending(db, server.guild.id) == 0


async def test_floods_duplicates_and_a_missing_permission_get_clear_answers(
    emu, server, db_path, db, monkeypatch
):
    monkeypatch.setattr("bot.rules.suggestions.GUILD_WAITING_LIMIT", 3)
    m = server.members
    async with punchline(emu, db_path, clock=ClockFrom(START)) as bot:
        await setup_contest(emu, server, bot)
        await emu.wait_for_message(server.channel.id, is_prompt, include_existing=True)
        first = await suggest(emu, server, m["alice"], picture((1, 1, 1)))
        assert "1 in the queue" in first.content
        again = await suggest(emu, server, m["alice"], picture((2, 2, 2)))
        assert "please wait 10 more minutes" in again.content

        same = await suggest(emu, server, m["bob"], picture((1, 1, 1), fmt="PNG"))  # re-saved
        assert "already suggested that picture" in same.content
        starter = prompts.list_prompts(db, server.guild.id)[0]
        in_pool = await suggest(emu, server, m["bob"], prompts.prompt_image(db, starter.id))
        assert "already in the pool" in in_pool.content

        emu.set_overwrite(
            server.channel.id, emu.bot_role(server.guild.id), deny=Permission.ATTACH_FILES
        )
        await emu.wait_until(
            lambda: (
                not bot.get_channel(server.channel.id)
                .permissions_for(bot.get_guild(server.guild.id).me)
                .attach_files
            ),
            "the bot to see its lost permission",
        )
        blocked = await suggest(emu, server, m["bob"], picture((3, 3, 3)))
        assert "2 in the queue" in blocked.content
        assert "missing **Attach Files**" in blocked.content
        queue = await review(emu, server)
        assert "no prompt can be posted" in queue.content

        await suggest(emu, server, m["carol"], picture((4, 4, 4)))
        full = await suggest(emu, server, m["dave"], picture((5, 5, 5)))
        assert "review queue is full (3 pictures waiting)" in full.content
    assert suggestions.count_pending(db, server.guild.id) == 3
