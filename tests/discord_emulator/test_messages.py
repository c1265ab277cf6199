"""Messages through discord.py: files, edits, history, threads, mentions, permissions."""

from __future__ import annotations

import io

import discord
import pytest
from discord.ext import commands

from discord_emulator import DiscordEmulator, Message
from discord_emulator.permissions import Permission

from .conftest import PNG, World, text_channel


async def test_a_posted_file_can_be_read_back(
    emu: DiscordEmulator, world: World, bot: commands.Bot
) -> None:
    sent = await text_channel(bot, world).send(
        "tonight's card", file=discord.File(io.BytesIO(PNG), "card.png", description="a card")
    )

    [stored] = emu.messages(world.channel.id)
    assert stored.content == "tonight's card"
    assert stored.author_id == emu.bot_user.id
    [attachment] = stored.attachments
    assert (attachment.filename, attachment.content_type, attachment.data) == (
        "card.png",
        "image/png",
        PNG,
    )
    assert attachment.description == "a card"
    assert await sent.attachments[0].read() == PNG


async def test_edit_delete_and_history(
    emu: DiscordEmulator, world: World, bot: commands.Bot
) -> None:
    channel = text_channel(bot, world)
    first = await channel.send("one")
    second = await channel.send("two", embed=discord.Embed(title="Leaderboard"))
    third = await channel.send("three")

    await second.edit(content="two, edited")
    await first.delete()

    newest_first = [m.content async for m in channel.history(limit=10)]
    assert newest_first == ["three", "two, edited"]
    oldest_first = [m.id async for m in channel.history(limit=10, oldest_first=True)]
    assert oldest_first == [second.id, third.id]
    fetched = await channel.fetch_message(second.id)
    assert fetched.embeds[0].title == "Leaderboard"
    assert fetched.edited_at is not None
    with pytest.raises(discord.NotFound):
        await channel.fetch_message(first.id)


async def test_users_messages_reach_the_bot(
    emu: DiscordEmulator, world: World, bot: commands.Bot
) -> None:
    seen: list[discord.Message] = []

    async def on_message(message: discord.Message) -> None:
        seen.append(message)

    bot.add_listener(on_message)
    mention = await emu.send_message(world.alice, world.channel, f"hey <@{emu.bot_user.id}>")
    await emu.send_message(world.alice, world.channel, "private thoughts")

    await emu.wait_until(lambda: len(seen) == 2)
    assert seen[0].id == mention.id
    assert seen[0].content == f"hey <@{emu.bot_user.id}>"
    assert seen[1].content == "", "without the message-content intent, content is withheld"


async def test_allowed_mentions_none_pings_nobody(
    emu: DiscordEmulator, world: World, bot: commands.Bot
) -> None:
    emu.set_overwrite(
        world.channel.id, emu.bot_role(world.guild.id), allow=Permission.MENTION_EVERYONE
    )
    caption = f"@everyone <@&{world.judges.id}> <@{world.bob.id}> look"
    channel = text_channel(bot, world)

    quiet = await channel.send(caption, allowed_mentions=discord.AllowedMentions.none())
    loud = await channel.send(caption)

    stored_quiet = emu.message(quiet.id)
    assert stored_quiet.content == caption
    assert (stored_quiet.pinged_users, stored_quiet.pinged_roles, stored_quiet.pinged_everyone) == (
        set(),
        set(),
        False,
    )
    stored_loud = emu.message(loud.id)
    assert stored_loud.pinged_users == {world.bob.id}
    assert stored_loud.pinged_roles == {world.judges.id}
    assert stored_loud.pinged_everyone
    assert [u.id for u in loud.mentions] == [world.bob.id]


async def test_everyone_needs_mention_everyone_permission(
    emu: DiscordEmulator, world: World, bot: commands.Bot
) -> None:
    sent = await text_channel(bot, world).send("@everyone wake up")
    assert not emu.message(sent.id).pinged_everyone


async def test_missing_send_messages_is_forbidden(
    emu: DiscordEmulator, world: World, bot: commands.Bot
) -> None:
    emu.set_overwrite(world.channel.id, world.guild.id, deny=Permission.SEND_MESSAGES)

    with pytest.raises(discord.Forbidden) as raised:
        await text_channel(bot, world).send("hello?")
    assert raised.value.code == 50013
    assert raised.value.text == "Missing Permissions"
    assert emu.messages(world.channel.id) == []


async def test_thread_from_message(emu: DiscordEmulator, world: World, bot: commands.Bot) -> None:
    prompt = await text_channel(bot, world).send("Caption this!")
    thread = await prompt.create_thread(name="Captions for today")

    assert thread.id == prompt.id
    assert thread.parent_id == world.channel.id
    await emu.wait_until(lambda: bot.get_channel(thread.id))
    await thread.send("first caption")
    stored: list[Message] = emu.messages(thread.id)
    assert [m.content for m in stored] == ["first caption"]
    with pytest.raises(discord.HTTPException) as raised:
        await prompt.create_thread(name="again")
    assert raised.value.code == 160004
