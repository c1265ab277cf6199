"""Message, embed, component and upload limits: ``message.mdx`` ("Embed Limits", "Create
Message": content up to 2000, up to 10 embeds, 25 MiB a request), ``reference.mdx`` (buttons,
custom ids, "Legacy messages allow up to 5 action rows", selects), ``receiving-and-responding.mdx``
(modal and autocomplete callbacks) and the 10 MiB upload limit of an unboosted guild
(``attachment_size_limit``). Refusals: 400 / 50035 with the field's path; 413 / 40005 for size."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest
from discord.ext import commands

from discord_emulator import DiscordEmulator, Rules
from discord_emulator.limits import MAX_FILE_BYTES

from .conftest import World, text_channel


@pytest.fixture
async def rest(emu: DiscordEmulator) -> AsyncIterator[aiohttp.ClientSession]:
    headers = {"Authorization": f"Bot {emu.token}"}
    async with aiohttp.ClientSession(base_url=emu.base_url, headers=headers) as session:
        yield session


def too_long(limit: int) -> dict[str, Any]:
    return {
        "_errors": [
            {"code": "BASE_TYPE_MAX_LENGTH", "message": f"Must be {limit} or fewer in length."}
        ]
    }


def button(custom_id: str = "vote", **fields: Any) -> dict[str, Any]:
    return {"type": 2, "style": 1, "label": "Funny", "custom_id": custom_id, **fields}


def row(*buttons: dict[str, Any]) -> dict[str, Any]:
    return {"type": 1, "components": list(buttons)}


EMBED_TOTAL = {
    "_errors": [
        {"code": "MAX_EMBED_SIZE_EXCEEDED", "message": "Embed size exceeds maximum size of 6000"}
    ]
}

REFUSED = {
    "content over 2000": ({"content": "x" * 2001}, {"content": too_long(2000)}),
    "title over 256": (
        {"embeds": [{"title": "t" * 257}]},
        {"embeds": {"0": {"title": too_long(256)}}},
    ),
    "description over 4096": (
        {"embeds": [{"description": "d" * 4097}]},
        {"embeds": {"0": {"description": too_long(4096)}}},
    ),
    "26 fields": (
        {"embeds": [{"fields": [{"name": "n", "value": "v"}] * 26}]},
        {"embeds": {"0": {"fields": too_long(25)}}},
    ),
    "field name over 256, value over 1024": (
        {"embeds": [{"fields": [{"name": "n" * 257, "value": "v" * 1025}]}]},
        {"embeds": {"0": {"fields": {"0": {"name": too_long(256), "value": too_long(1024)}}}}},
    ),
    "footer over 2048, author over 256": (
        {"embeds": [{"footer": {"text": "f" * 2049}, "author": {"name": "a" * 257}}]},
        {"embeds": {"0": {"footer": {"text": too_long(2048)}, "author": {"name": too_long(256)}}}},
    ),
    "11 embeds": ({"embeds": [{"title": "t"}] * 11}, {"embeds": too_long(10)}),
    "embeds over 6000 in all": (
        {"embeds": [{"description": "d" * 3001}, {"description": "d" * 3000}]},
        {"embeds": EMBED_TOTAL},
    ),
    "button label over 80": (
        {"components": [row(button(label="l" * 81))]},
        {"components": {"0": {"components": {"0": {"label": too_long(80)}}}}},
    ),
    "custom_id over 100": (
        {"components": [row(button("c" * 101))]},
        {
            "components": {
                "0": {
                    "components": {
                        "0": {
                            "custom_id": {
                                "_errors": [
                                    {
                                        "code": "BASE_TYPE_BAD_LENGTH",
                                        "message": "Must be between 1 and 100 in length.",
                                    }
                                ]
                            }
                        }
                    }
                }
            }
        },
    ),
    "6 action rows": (
        {"components": [row(button(f"b{i}")) for i in range(6)]},
        {"components": too_long(5)},
    ),
    "6 buttons in a row": (
        {"components": [row(*(button(f"b{i}") for i in range(6)))]},
        {"components": {"0": {"components": too_long(5)}}},
    ),
    "the same custom_id twice": (
        {"components": [row(button("vote"), button("vote"))]},
        {
            "components": {
                "0": {
                    "components": {
                        "1": {
                            "custom_id": {
                                "_errors": [
                                    {
                                        "code": "COMPONENT_CUSTOM_ID_DUPLICATED",
                                        "message": "Component custom id cannot be duplicated",
                                    }
                                ]
                            }
                        }
                    }
                }
            }
        },
    ),
}


@pytest.mark.parametrize("case", REFUSED)
async def test_a_message_over_a_limit_is_refused_with_the_field_path(
    emu: DiscordEmulator, world: World, rest: aiohttp.ClientSession, case: str
) -> None:
    payload, errors = REFUSED[case]

    async with rest.post(f"/api/v10/channels/{world.channel.id}/messages", json=payload) as answer:
        body = await answer.json()

    assert (answer.status, body["code"], body["message"]) == (400, 50035, "Invalid Form Body")
    assert body["errors"] == errors
    assert emu.messages(world.channel.id) == []
    emu.exchanges.clear()  # deliberately invalid: the spec refuses some of these bodies too


async def test_limits_are_measured_inclusively_and_without_surrounding_whitespace(
    emu: DiscordEmulator, world: World, rest: aiohttp.ClientSession
) -> None:
    payload = {
        "content": "x" * 2000,
        "embeds": [{"title": "  " + "t" * 256 + "\n", "description": "d" * 4096}],
        "components": [row(*(button(f"b{i}", label="l" * 80) for i in range(5)))],
    }
    async with rest.post(f"/api/v10/channels/{world.channel.id}/messages", json=payload) as answer:
        assert answer.status == 200, await answer.text()
    [stored] = emu.messages(world.channel.id)
    assert stored.embeds[0]["title"] == "t" * 256, "trimmed, as Discord stores it"
    assert stored.embeds[0]["type"] == "rich"
    emu.exchanges.clear()  # the spec counts the whitespace the docs say is trimmed


def upload(size: int, count: int = 1) -> aiohttp.FormData:
    form = aiohttp.FormData(quote_fields=False)
    form.add_field("payload_json", json.dumps({"content": "files"}))
    for n in range(count):
        form.add_field(f"files[{n}]", io.BytesIO(b"\0" * size), filename=f"f{n}.bin")
    return form


async def test_a_file_over_10_mib_is_request_entity_too_large_413(
    emu: DiscordEmulator, world: World, rest: aiohttp.ClientSession
) -> None:
    url = f"/api/v10/channels/{world.channel.id}/messages"
    async with rest.post(url, data=upload(MAX_FILE_BYTES + 1)) as answer:
        body = await answer.json()
    assert (answer.status, body["code"]) == (413, 40005)
    assert body["message"] == "Request entity too large"

    async with rest.post(url, data=upload(MAX_FILE_BYTES)) as answer:
        assert answer.status == 200
    async with rest.post(url, data=upload(10, count=11)) as answer:
        assert (answer.status, (await answer.json())["errors"]) == (400, {"files": too_long(10)})
    emu.exchanges.clear()  # deliberately invalid


async def test_discord_py_sees_50035_for_an_over_long_embed(
    emu: DiscordEmulator, world: World, bot: commands.Bot
) -> None:
    with pytest.raises(discord.HTTPException) as raised:
        await text_channel(bot, world).send(embed=discord.Embed(title="t" * 257))

    assert (raised.value.status, raised.value.code) == (400, 50035)
    assert "embeds.0.title: Must be 256 or fewer in length." in str(raised.value)
    emu.exchanges.clear()  # deliberately invalid


async def callback(
    emu: DiscordEmulator, world: World, rest: aiohttp.ClientSession, kind: int, body: dict
) -> tuple[int, dict[str, Any]]:
    interaction = emu.interactions.create(
        2, guild_id=world.guild.id, channel_id=world.channel.id, user_id=world.alice.id, data={}
    )
    url = f"/api/v10/interactions/{interaction.id}/{interaction.token}/callback"
    async with rest.post(url, json={"type": kind, "data": body}) as answer:
        return answer.status, await answer.json()


async def test_an_interaction_reply_is_checked_under_data(
    emu: DiscordEmulator, world: World, rest: aiohttp.ClientSession
) -> None:
    status, body = await callback(emu, world, rest, 4, {"content": "x" * 2001})
    assert (status, body["errors"]) == (400, {"data": {"content": too_long(2000)}})

    modal = {"custom_id": "m", "title": "t" * 46, "components": []}
    status, body = await callback(emu, world, rest, 9, modal)
    assert status == 400
    assert body["errors"]["data"]["title"] == too_long(45)
    assert "components" in body["errors"]["data"]

    choices = [{"name": f"c{i}", "value": str(i)} for i in range(26)]
    status, body = await callback(emu, world, rest, 8, {"choices": choices})
    assert (status, body["errors"]) == (400, {"data": {"choices": too_long(25)}})
    emu.exchanges.clear()  # deliberately invalid


async def test_without_the_rule_an_over_long_message_is_stored(
    emu: DiscordEmulator, world: World, rest: aiohttp.ClientSession
) -> None:
    emu.rules = Rules().without("message_limits")
    payload = {"content": "x" * 2001}
    async with rest.post(f"/api/v10/channels/{world.channel.id}/messages", json=payload) as answer:
        assert answer.status == 200
    emu.exchanges.clear()  # deliberately invalid
