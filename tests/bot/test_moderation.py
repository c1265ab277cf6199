"""Moderator commands: refused at run time to members without permission, allowed to moderators;
the prompt pool's image validation; leaderboards over seasons."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from discord_emulator.permissions import Permission
from storage import audit, open_database, prompts
from tests.bot.conftest import is_prompt, is_results, punchline, setup_contest


def png(width: int = 64, height: int = 48, colour=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="PNG")
    return out.getvalue()


# (command, options) for every moderator command; options are valid, so only permission decides.
MODERATOR_COMMANDS = [
    ("contest setup", {"channel": "CHANNEL"}),
    ("contest schedule", {"post_time": "10:00"}),
    ("contest mode", {"mode": "ballot"}),
    ("contest start", {}),
    ("contest close", {}),
    ("contest extend", {"minutes": 5}),
    ("contest reopen", {"minutes": 5}),
    ("mod disqualify", {"entry": 1, "reason": "spam"}),
    ("mod ban", {"member": "MEMBER", "reason": "spam"}),
    ("mod unban", {"member": "MEMBER"}),
    ("mod export", {}),
    ("mod audit", {}),
    ("prompt list", {}),
    ("prompt remove", {"prompt": 1}),
    ("prompt next", {}),
    ("prompt queue", {}),
    ("season start", {"name": "Spring"}),
]
SHARED_GROUPS = ("contest ", "prompt ")  # groups with member subcommands: no permission hint


def _options(options: dict, server) -> dict:
    swap = {"CHANNEL": server.channel.id, "MEMBER": server.members["bob"].id}
    return {k: swap.get(v, v) if isinstance(v, str) else v for k, v in options.items()}


async def test_every_moderator_command_is_checked_at_run_time(emu, server, tmp_path):
    alice = server.members["alice"]
    # A channel overwrite passes Discord's default_permissions hint, but not the bot's own check
    emu.set_overwrite(server.channel.id, alice.id, allow=Permission.MANAGE_GUILD)
    async with punchline(emu, tmp_path / "p.db"):
        for command, options in MODERATOR_COMMANDS:
            refused = await emu.slash(
                server.guild.id, server.channel.id, alice.id, command, **_options(options, server)
            )
            assert "Only moderators" in refused.content, command
            assert refused.ephemeral
            # A plain member: whole moderator groups are hidden by the hint; /contest and /prompt
            # are shared with members (/contest status, /prompt suggest), and Discord has no
            # per-subcommand hint, so the run-time check alone refuses them there.
            try:
                plain = await emu.slash(
                    server.guild.id,
                    server.channel.id,
                    server.members["bob"].id,
                    command,
                    **_options(options, server),
                )
            except PermissionError:
                assert not command.startswith(SHARED_GROUPS), command
            else:
                assert command.startswith(SHARED_GROUPS), command
                assert "Only moderators" in plain.content, command
    db = open_database(tmp_path / "p.db")
    assert audit.recent_actions(db, server.guild.id) == []  # nothing happened


async def test_moderators_are_allowed_and_every_action_is_audited(emu, server, tmp_path):
    async with punchline(emu, tmp_path / "p.db") as bot:
        await setup_contest(emu, server, bot, submission_minutes=30, voting_minutes=30)
        for command, options in MODERATOR_COMMANDS[1:]:
            answer = await emu.slash(
                server.guild.id,
                server.channel.id,
                server.mod.id,
                command,
                **_options(options, server),
            )
            assert "Only moderators" not in (answer.content or ""), command
            assert "went wrong" not in (answer.content or ""), (command, answer.content)
    actions = {
        a.action
        for a in audit.recent_actions(open_database(tmp_path / "p.db"), server.guild.id, limit=100)
    }
    assert {
        "contest.setup",
        "contest.schedule",
        "contest.mode",
        "contest.advance",
        "member.ban",
        "member.unban",
        "data.export",
        "season.start",
    } <= actions


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not an image at all" * 100, "couldn't read that"),
        (png()[:60], "damaged or incomplete"),
        (b"GIF89a" + b"\x00" * 10, "couldn't read that"),
    ],
)
async def test_bad_uploads_get_a_clear_error_and_change_nothing(
    emu, server, tmp_path, data, message
):
    async with punchline(emu, tmp_path / "p.db"):
        answer = await emu.slash(
            server.guild.id,
            server.channel.id,
            server.mod.id,
            "prompt add",
            image=("cat.png", data),
            description="A cat on a piano",
        )
        assert message in answer.content
    assert prompts.count_prompts(open_database(tmp_path / "p.db"), server.guild.id) == 0


async def test_a_good_upload_is_cleaned_and_recognised_when_added_again(emu, server, tmp_path):
    photo = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    Image.new("RGB", (3000, 2000), (10, 120, 200)).save(photo, format="JPEG", exif=exif)
    async with punchline(emu, tmp_path / "p.db"):
        first = await emu.slash(
            server.guild.id,
            server.channel.id,
            server.mod.id,
            "prompt add",
            image=("beach.jpg", photo.getvalue()),
            description="A beach at noon",
        )
        assert "Added prompt #1 (1600×1067" in first.content
        resaved = io.BytesIO()
        Image.open(io.BytesIO(photo.getvalue())).save(
            resaved, format="PNG"
        )  # same picture, new file
        again = await emu.slash(
            server.guild.id,
            server.channel.id,
            server.mod.id,
            "prompt add",
            image=("beach.png", resaved.getvalue()),
            description="Same beach",
        )
        assert "already in the pool as prompt #1" in again.content
    db = open_database(tmp_path / "p.db")
    stored = Image.open(io.BytesIO(prompts.prompt_image(db, 1)))
    assert stored.size == (1600, 1067)
    assert not stored.getexif()


async def test_uploaded_prompt_is_used_next_and_leaderboard_counts_the_winner(
    emu, server, tmp_path
):
    m = server.members
    async with punchline(emu, tmp_path / "p.db") as bot:
        await emu.slash(
            server.guild.id,
            server.channel.id,
            server.mod.id,
            "prompt add",
            image=("red.png", png()),
            description="A red square, looking smug",
        )
        await setup_contest(emu, server, bot, submission_minutes=3, voting_minutes=3)
        prompt = await emu.wait_for_message(server.channel.id, is_prompt, include_existing=True)
        assert "red square" in prompt.embeds[0]["description"]
        await emu.slash(
            server.guild.id,
            server.channel.id,
            m["alice"].id,
            "caption submit",
            text="Hip to be square",
        )
        await emu.slash(
            server.guild.id, server.channel.id, m["bob"].id, "caption submit", text="Red alert"
        )
        thread_id = await emu.wait_until(
            lambda: next((c.id for c in emu.state.guild_threads(server.guild.id)), None)
        )
        posted = await emu.wait_until(
            lambda: (lambda ms: ms if len(ms) == 2 else None)(
                [
                    x
                    for x in emu.messages(thread_id)
                    if x.content.startswith("**Entry #") and len(x.reactions) == 3
                ]
            )
        )
        square = next(x for x in posted if "square" in x.content)
        for voter in ("carol", "dave", "erin"):
            await emu.react(m[voter].id, thread_id, square.id, "😂")
        await emu.wait_for_message(server.channel.id, is_results)
        board = await emu.slash(
            server.guild.id, server.channel.id, m["carol"].id, "leaderboard", scope="all"
        )
        assert board.content.index(f"<@{m['alice'].id}>") < board.content.index(f"<@{m['bob'].id}>")
        assert "10 pts" in board.content
        assert board.files[0].filename == "leaderboard.png"
        stats = await emu.slash(server.guild.id, server.channel.id, m["alice"].id, "stats")
        assert "10 points over 1 contests, 1 win(s)" in stats.content
