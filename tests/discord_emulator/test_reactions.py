"""Reactions: raw gateway events, the bot's own reactions, permissions, limits, paging."""

from __future__ import annotations

import discord
import pytest
from discord.ext import commands

from discord_emulator import DiscordEmulator
from discord_emulator.permissions import DEFAULT_EVERYONE

from .conftest import World, record_raw_reactions, text_channel


async def test_members_reactions_arrive_as_raw_events(
    emu: DiscordEmulator, world: World, bot: commands.Bot
) -> None:
    events = record_raw_reactions(bot)
    caption = await emu.send_message(world.bob, world.channel, "a caption")

    await emu.react(world.alice, world.channel, caption, "😂")
    await emu.unreact(world.alice, world.channel, caption, "😂")
    await emu.wait_until(lambda: len(events) == 2)

    added, removed = events
    assert (added.event_type, removed.event_type) == ("REACTION_ADD", "REACTION_REMOVE")
    assert added.message_id == removed.message_id == caption.id
    assert added.user_id == world.alice.id
    assert str(added.emoji) == "😂"
    assert added.member is not None
    assert added.member.id == world.alice.id
    assert removed.member is None
    assert added.message_author_id == world.bob.id
    assert added.burst is False
    assert added.type is discord.ReactionType.normal
    assert emu.message(caption.id).reactions == {}


async def test_bot_adds_and_removes_reactions(
    emu: DiscordEmulator, world: World, bot: commands.Bot
) -> None:
    message = await text_channel(bot, world).send("vote here")
    await message.add_reaction("😂")
    await message.add_reaction("<:kek:123456789012345678>")
    await emu.react(world.alice, world.channel, message, "😂")

    assert emu.message(message.id).reactions == {
        "😂": [emu.bot_user.id, world.alice.id],
        "kek:123456789012345678": [emu.bot_user.id],
    }
    await message.remove_reaction("😂", discord.Object(world.alice.id))
    await message.remove_reaction("😂", bot.user)  # type: ignore[arg-type]
    assert "😂" not in emu.message(message.id).reactions


async def test_removing_someone_elses_reaction_needs_manage_messages(
    emu: DiscordEmulator, world: World, bot: commands.Bot
) -> None:
    emu.set_role_permissions(world.guild, emu.bot_role(world.guild.id), DEFAULT_EVERYONE)
    caption = await emu.send_message(world.bob, world.channel, "a caption")
    await emu.react(world.bob, world.channel, caption, "😂")
    guild = bot.get_guild(world.guild.id)
    assert guild is not None
    await emu.wait_until(lambda: not guild.me.guild_permissions.manage_messages)

    message = await text_channel(bot, world).fetch_message(caption.id)
    with pytest.raises(discord.Forbidden) as raised:
        await message.remove_reaction("😂", discord.Object(world.bob.id))
    assert raised.value.code == 50013
    assert emu.message(caption.id).reactors("😂") == [world.bob.id]


async def test_at_most_twenty_distinct_emoji(
    emu: DiscordEmulator, world: World, bot: commands.Bot
) -> None:
    message = await text_channel(bot, world).send("react!")
    emoji = [chr(0x1F600 + i) for i in range(21)]
    for e in emoji[:20]:
        await emu.react(world.alice, world.channel, message, e)

    with pytest.raises(discord.HTTPException) as raised:
        await message.add_reaction(emoji[20])
    assert raised.value.code == 30010
    await message.add_reaction(emoji[0])
    assert len(emu.message(message.id).reactions) == 20


async def test_reaction_users_are_paged(
    emu: DiscordEmulator, world: World, bot: commands.Bot
) -> None:
    message = await emu.send_message(world.alice, world.channel, "popular")
    voters = [emu.create_user(f"voter{i}") for i in range(130)]
    for voter in voters:
        emu.add_member(world.guild.id, voter)
        await emu.react(voter, world.channel, message, "👍")

    fetched = await text_channel(bot, world).fetch_message(message.id)
    users = [u.id async for u in fetched.reactions[0].users()]
    assert sorted(users) == [v.id for v in voters]
    reaction_calls = [r for r in emu.request_log if "/reactions/" in r.path]
    assert len(reaction_calls) == 2, "discord.py pages 100 users at a time"
