"""Who may run moderator commands: Discord's hint, and the bot's own check at run time."""

from __future__ import annotations

import datetime as dt

import pytest
from discord import app_commands

from bot.app import EXTENSIONS, PunchlineBot
from bot.config import Settings
from bot.store import Store
from discord_emulator import Permission
from storage import guilds
from tests.bot.conftest import OLD_ACCOUNT, punchline


async def run_setup(emu, server, user_id: int):
    return await emu.slash(
        server.guild.id,
        server.channel.id,
        user_id,
        "contest setup",
        channel=server.channel.id,
        post_time="09:00",
    )


async def test_commands_behind_the_hint_are_hidden_from_plain_members(emu, server, db_path):
    """Every top-level command synced with ``default_member_permissions`` is one a member
    without Manage Server cannot run at all (Discord's side of the protection)."""
    async with punchline(emu, db_path):
        hinted = [c["name"] for c in emu.commands() if c["default_member_permissions"]]
        assert hinted
        for name in hinted:
            with pytest.raises(PermissionError):
                await emu.slash(
                    server.guild.id, server.channel.id, server.members["alice"].id, name
                )


async def test_setup_by_a_member_without_manage_server_is_refused(emu, server, db_path, db):
    """/contest shares its group with /contest status, so Discord gets no hint for
    /contest setup (discord.py sends ``default_member_permissions`` for top-level commands
    only): the run-time check is what refuses a plain member, and nothing is saved."""
    async with punchline(emu, db_path):
        [contest] = [c for c in emu.commands() if c["name"] == "contest"]
        assert contest["default_member_permissions"] is None
        refused = await run_setup(emu, server, server.members["alice"].id)
    assert refused.ephemeral
    assert "Only moderators" in refused.content
    assert guilds.get_settings(db, server.guild.id) is None


async def test_the_configured_moderator_role_passes_the_run_time_check(emu, server, db_path, db):
    """A member with the server's moderator role but no Manage Server may set the contest up;
    a member without the role may not, even with Manage Server granted in the channel only
    (the check reads server-wide permissions)."""
    hosts = emu.create_role(server.guild.id, "contest hosts")
    host = emu.create_user("host", created_at=OLD_ACCOUNT)
    emu.add_member(server.guild.id, host.id, roles=[hosts])
    alice = server.members["alice"]
    emu.set_overwrite(server.channel.id, alice.id, allow=Permission.MANAGE_GUILD)
    guilds.update_settings(db, server.guild.id, dt.datetime.now(dt.UTC), moderator_role_id=hosts.id)
    async with punchline(emu, db_path):
        refused = await run_setup(emu, server, alice.id)
        accepted = await run_setup(emu, server, host.id)
    assert "Only moderators" in refused.content
    assert "Daily contest set" in accepted.content
    settings = guilds.get_settings(db, server.guild.id)
    assert settings.channel_id == server.channel.id
    assert settings.post_time == "09:00"


def has_moderator_check(command: app_commands.Command) -> bool:
    return any(check.__qualname__.startswith("moderator_only.") for check in command.checks)


async def test_every_command_behind_the_hint_also_checks_at_run_time(tmp_path):
    """Each command marked ``default_permissions`` (its own or its group's) carries
    ``moderator_only`` (admins can override the hint), and so does every moderator subcommand
    of the shared /contest group, which has no hint."""
    async with PunchlineBot(Settings(token="unused"), store=Store(tmp_path / "unused.db")) as bot:
        for extension in EXTENSIONS:
            await bot.load_extension(extension)
        hinted = [
            command
            for command in bot.tree.walk_commands()
            if isinstance(command, app_commands.Command)
            and {command.default_permissions, (command.root_parent or command).default_permissions}
            != {None}
        ]
        assert [c.qualified_name for c in hinted if not has_moderator_check(c)] == []
        checked = {
            c.qualified_name
            for c in bot.tree.walk_commands()
            if isinstance(c, app_commands.Command) and has_moderator_check(c)
        }
        # /contest is shared with members, so its moderator subcommands carry no hint at all
        assert {"contest setup", "contest schedule", "contest start", "contest close"} <= checked
