"""Thread archiving as ``threads.mdx`` describes it ("Active & Archived Threads"): a thread
archives ``auto_archive_duration`` minutes after its last activity; then "users cannot edit
messages, add reactions, use application commands, or join archived threads" (50083), while
"sending a message will automatically unarchive the thread, unless the thread has been locked";
``PATCH /channels/{id}`` with ``archived: false`` unarchives it ("Editing a thread")."""

from __future__ import annotations

import datetime as dt

import discord
import pytest
from discord.ext import commands

from discord_emulator import DiscordAPIError, DiscordEmulator, Permission, Rules

from .conftest import World, text_channel

DAY = dt.timedelta(days=1)
MANAGE_THREADS = Permission.MANAGE_THREADS


async def voting_thread(
    emu: DiscordEmulator, bot: commands.Bot, world: World
) -> tuple[discord.Thread, discord.Message]:
    prompt = await text_channel(bot, world).send("Vote here")
    thread = await prompt.create_thread(name="Vote", auto_archive_duration=1440)
    entry = await thread.send("Entry #1")
    await emu.wait_until(lambda: bot.get_channel(thread.id))
    return thread, entry


def record_thread_updates(bot: commands.Bot) -> list[discord.Thread]:
    updated: list[discord.Thread] = []

    async def on_thread_update(before: discord.Thread, after: discord.Thread) -> None:
        updated.append(after)

    bot.add_listener(on_thread_update)
    return updated


async def test_a_thread_archives_after_its_auto_archive_duration_of_inactivity(
    emu: DiscordEmulator, world: World, bot: commands.Bot
) -> None:
    thread, _ = await voting_thread(emu, bot, world)
    updates = record_thread_updates(bot)

    emu.advance_time(DAY - dt.timedelta(minutes=1))
    assert not emu.state.channel(thread.id).archived
    await thread.send("activity: the 24 hours start again")
    emu.advance_time(dt.timedelta(minutes=2))
    assert not emu.state.channel(thread.id).archived

    emu.advance_time(DAY)
    assert emu.state.channel(thread.id).archived
    [archived] = await emu.wait_until(lambda: updates, "THREAD_UPDATE")
    assert (archived.id, archived.archived) == (thread.id, True)


async def test_an_archived_thread_refuses_reactions_and_edits_with_50083(
    emu: DiscordEmulator, world: World, bot: commands.Bot
) -> None:
    thread, entry = await voting_thread(emu, bot, world)
    emu.advance_time(DAY)

    with pytest.raises(discord.HTTPException) as reaction:
        await entry.add_reaction("😂")
    with pytest.raises(discord.HTTPException) as edit:
        await entry.edit(content="Entry #1, edited")
    with pytest.raises(DiscordAPIError) as member_reaction:
        await emu.react(world.alice.id, thread.id, entry.id, "😂")

    for raised in (reaction.value, edit.value):
        assert (raised.status, raised.code, raised.text) == (400, 50083, "Thread is archived")
    assert member_reaction.value.code == 50083
    stored = emu.message(entry.id)
    assert stored.reactions == {}
    assert stored.content == "Entry #1"


async def test_unarchiving_with_archived_false_makes_it_usable_again(
    emu: DiscordEmulator, world: World, bot: commands.Bot
) -> None:
    thread, entry = await voting_thread(emu, bot, world)
    emu.advance_time(DAY)

    reopened = await thread.edit(archived=False)

    assert not reopened.archived
    await entry.add_reaction("😂")
    assert emu.message(entry.id).reactors("😂") == [emu.bot_user.id]
    emu.advance_time(DAY)
    assert emu.state.channel(thread.id).archived, "unarchiving is activity: 24 h again"


async def test_a_new_message_unarchives_unless_the_thread_is_locked(
    emu: DiscordEmulator, world: World, bot: commands.Bot
) -> None:
    thread, _ = await voting_thread(emu, bot, world)
    emu.advance_time(DAY)

    await thread.send("results are in")
    assert not emu.state.channel(thread.id).archived

    bot_role = emu.bot_role(world.guild.id)
    emu.set_role_permissions(world.guild.id, bot_role, bot_role.permissions | MANAGE_THREADS)
    await thread.edit(archived=True, locked=True)
    with pytest.raises(discord.HTTPException) as raised:
        await thread.send("too late")
    assert raised.value.code == 50083


async def test_without_the_rule_threads_never_archive(
    emu: DiscordEmulator, world: World, bot: commands.Bot
) -> None:
    emu.rules = Rules().without("thread_archiving")
    thread, entry = await voting_thread(emu, bot, world)
    emu.advance_time(7 * DAY)

    await entry.add_reaction("😂")
    assert not emu.state.channel(thread.id).archived
