"""Application commands and components, driven by the emulator's users."""

from __future__ import annotations

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.ext import commands

from discord_emulator import DiscordEmulator, running_client

from .conftest import PNG, World, make_bot

caption = app_commands.Group(name="caption", description="Caption contest")
admin = app_commands.Group(name="admin", description="Contest admin", parent=caption)


@caption.command(name="submit", description="Submit a caption")
async def submit(interaction: discord.Interaction, text: str) -> None:
    await interaction.response.send_message(f"Got it: {text}", ephemeral=True)
    await interaction.followup.send(
        "A new caption is in!", allowed_mentions=discord.AllowedMentions.none()
    )


@admin.command(name="prompt", description="Post a prompt image")
async def prompt(
    interaction: discord.Interaction, image: discord.Attachment, rounds: int = 1
) -> None:
    await interaction.response.defer(thinking=True)
    data = await image.read()
    await interaction.edit_original_response(
        content=f"{image.filename}: {len(data)} bytes, {rounds} rounds"
    )


@admin.command(name="credit", description="Credit a caption")
async def credit(
    interaction: discord.Interaction,
    author: discord.Member,
    role: discord.Role,
    channel: discord.TextChannel,
) -> None:
    await interaction.response.send_message(
        f"{author.display_name} / {role.name} / {channel.name} / {author.joined_at is not None}",
        allowed_mentions=discord.AllowedMentions.none(),
    )


@caption.command(name="search", description="Find a caption")
async def search(interaction: discord.Interaction, query: str) -> None:
    await interaction.response.send_message(f"searching {query}")


@search.autocomplete("query")
async def search_autocomplete(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=f"{current} {n}", value=f"{current}-{n}") for n in (1, 2)]


@caption.command(name="status", description="Show the contest status")
async def status(interaction: discord.Interaction) -> None:
    await interaction.response.send_message("working…")
    original = await interaction.original_response()
    note = await interaction.followup.send("temporary", wait=True)
    await note.edit(content="edited")
    await note.delete()
    await interaction.edit_original_response(content=f"done, was {original.content!r}")


@app_commands.command(name="reset", description="Wipe the contest")
@app_commands.default_permissions(manage_guild=True)
async def reset(interaction: discord.Interaction) -> None:
    await interaction.response.send_message("wiped")


class VoteView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Funny", custom_id="vote:funny")
    async def funny(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.edit_message(content=f"voted by {interaction.user.name}")

    @discord.ui.button(label="Suggest", custom_id="vote:suggest")
    async def suggest(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.send_modal(SuggestModal())


class PickView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.select(
        custom_id="pick",
        options=[
            discord.SelectOption(label="A", value="a"),
            discord.SelectOption(label="B", value="b"),
        ],
    )
    async def pick(self, interaction: discord.Interaction, select: discord.ui.Select) -> None:
        await interaction.response.send_message(f"picked {select.values}", ephemeral=True)


class SuggestModal(discord.ui.Modal, title="Suggest a caption"):
    text: discord.ui.TextInput = discord.ui.TextInput(label="Caption", custom_id="suggest:text")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"suggested: {self.text.value}", ephemeral=True)


@pytest.fixture
async def contest_bot(emu: DiscordEmulator, world: World) -> commands.Bot:
    bot = make_bot()
    bot.tree.add_command(caption)
    bot.tree.add_command(reset)
    bot.add_view(VoteView())
    bot.add_view(PickView())
    async with running_client(emu, bot):
        await bot.tree.sync()
        yield bot


async def test_synced_commands_are_stored(emu: DiscordEmulator, contest_bot: commands.Bot) -> None:
    names = {c["name"]: c for c in emu.commands()}
    assert set(names) == {"caption", "reset"}
    assert names["reset"]["default_member_permissions"] == str(1 << 5)
    subcommands = {o["name"] for o in names["caption"]["options"]}
    assert subcommands == {"submit", "admin", "search", "status"}


async def test_slash_command_with_ephemeral_reply_and_followup(
    emu: DiscordEmulator, world: World, contest_bot: commands.Bot
) -> None:
    result = await emu.slash(
        world.guild.id, world.channel.id, world.alice.id, "caption submit", text="@everyone hi"
    )

    assert result.response_type == 4
    assert result.content == "Got it: @everyone hi"
    assert result.ephemeral
    [followup] = await result.wait_for_followups(1)
    assert followup.content == "A new caption is in!"
    assert not followup.ephemeral
    assert [m.content for m in emu.messages(world.channel.id)] == ["A new caption is in!"]


async def test_subcommand_group_with_attachment_and_deferral(
    emu: DiscordEmulator, world: World, contest_bot: commands.Bot
) -> None:
    result = await emu.slash(
        world.guild.id,
        world.channel.id,
        world.alice.id,
        "caption admin prompt",
        image=("cat.png", PNG),
        rounds=3,
    )

    assert result.response_type == 5
    assert not result.loading
    assert result.content == f"cat.png: {len(PNG)} bytes, 3 rounds"


async def test_user_role_and_channel_options_are_resolved(
    emu: DiscordEmulator, world: World, contest_bot: commands.Bot
) -> None:
    result = await emu.slash(
        world.guild,
        world.channel,
        world.alice,
        "caption admin credit",
        author=world.bob,
        role=world.judges,
        channel=world.channel,
    )
    assert result.content == "bob / judges / contest / True"


async def test_autocomplete(emu: DiscordEmulator, world: World, contest_bot: commands.Bot) -> None:
    result = await emu.autocomplete(
        world.guild.id, world.channel.id, world.alice.id, "caption search", "query", query="cat"
    )
    assert result.response_type == 8
    assert result.choices == [
        {"name": "cat 1", "value": "cat-1"},
        {"name": "cat 2", "value": "cat-2"},
    ]


async def test_default_member_permissions_are_enforced(
    emu: DiscordEmulator, world: World, contest_bot: commands.Bot
) -> None:
    with pytest.raises(PermissionError):
        await emu.slash(world.guild.id, world.channel.id, world.alice.id, "reset")
    owner = world.guild.owner_id
    result = await emu.slash(world.guild.id, world.channel.id, owner, "reset")
    assert result.content == "wiped"


async def test_button_press_updates_the_message(
    emu: DiscordEmulator, world: World, contest_bot: commands.Bot
) -> None:
    channel = contest_bot.get_channel(world.channel.id)
    assert isinstance(channel, discord.TextChannel)
    posted = await channel.send("Vote!", view=VoteView())

    result = await emu.press_button(posted.id, "vote:funny", world.bob.id)

    assert result.response_type == 7
    assert emu.message(posted.id).content == "voted by bob"
    assert result.original is not None
    assert result.original.id == posted.id


async def test_modal_opened_by_a_button_and_submitted(
    emu: DiscordEmulator, world: World, contest_bot: commands.Bot
) -> None:
    channel = contest_bot.get_channel(world.channel.id)
    assert isinstance(channel, discord.TextChannel)
    posted = await channel.send("Vote!", view=VoteView())

    opened = await emu.press_button(posted.id, "vote:suggest", world.bob.id)
    assert opened.response_type == 9
    assert opened.modal is not None
    assert opened.modal["title"] == "Suggest a caption"

    submitted = await emu.submit_modal(opened, {"suggest:text": "a cat in a hat"})
    assert submitted.content == "suggested: a cat in a hat"
    assert submitted.ephemeral


async def test_answering_twice_is_refused(
    emu: DiscordEmulator, world: World, contest_bot: commands.Bot
) -> None:
    result = await emu.slash(
        world.guild.id, world.channel.id, world.bob.id, "caption submit", text="x"
    )
    url = f"{emu.api_url}/interactions/{result.id}/{result.token}/callback"
    body = {"type": 4, "data": {"content": "again"}}
    async with aiohttp.ClientSession() as session, session.post(url, json=body) as response:
        assert response.status == 400
        assert await response.json() == {
            "code": 40060,
            "message": "Interaction has already been acknowledged.",
        }


async def test_original_response_and_followups_can_be_fetched_edited_deleted(
    emu: DiscordEmulator, world: World, contest_bot: commands.Bot
) -> None:
    result = await emu.slash(world.guild.id, world.channel.id, world.alice.id, "caption status")
    await emu.wait_until(lambda: result.content and result.content.startswith("done"))

    assert result.content == "done, was 'working…'"
    [note] = result.followups
    assert note.deleted
    assert note.content == "edited"
    assert [m.content for m in emu.messages(world.channel.id)] == [result.content]


async def test_select_menu(emu: DiscordEmulator, world: World, contest_bot: commands.Bot) -> None:
    channel = contest_bot.get_channel(world.channel.id)
    assert isinstance(channel, discord.TextChannel)
    posted = await channel.send("Pick one", view=PickView())

    result = await emu.select(posted.id, "pick", world.alice.id, ["b"])
    assert result.content == "picked ['b']"
    assert result.ephemeral
    with pytest.raises(ValueError, match="type 3"):
        await emu.press_button(posted.id, "pick", world.alice.id)


async def test_guild_commands_are_stored_per_guild_and_preferred(
    emu: DiscordEmulator, world: World, contest_bot: commands.Bot
) -> None:
    guild = discord.Object(world.guild.id)
    contest_bot.tree.copy_global_to(guild=guild)
    await contest_bot.tree.sync(guild=guild)

    fetched = await contest_bot.tree.fetch_commands(guild=guild)
    assert {c.name for c in fetched} == {"caption", "reset"}
    assert all(c["guild_id"] == str(world.guild.id) for c in emu.commands(world.guild))
    result = await emu.slash(world.guild, world.channel, world.alice, "caption submit", text="x")
    assert result.content == "Got it: x"
