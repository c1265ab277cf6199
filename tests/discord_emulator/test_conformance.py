"""Holding exchanges against Discord's OpenAPI spec (``../shared/discord/spec/openapi.json``):
what the validator accepts and refuses, and that the end-to-end fixtures fail on a violation."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from discord_emulator import DiscordEmulator, Exchange, payloads
from discord_emulator.conformance import SpecConformance
from testkit.conformance import (
    SpecViolation,
    checked_emulator,
    spec_conformance,
    spec_missing_reason,
)


@pytest.fixture(scope="module")
def spec() -> SpecConformance:
    reason = spec_missing_reason()
    if reason is not None:
        pytest.skip(reason)
    conformance = spec_conformance()
    assert conformance is not None
    return conformance


USER = {
    "id": "80351110224678912",
    "username": "alice",
    "discriminator": "0",
    "global_name": None,
    "avatar": None,
    "public_flags": 0,
    "flags": 0,
    "primary_guild": None,
}


def exchange(
    method: str, path: str, status: int, answer: Any = None, request: Any = None
) -> Exchange:
    body = b"" if answer is None else json.dumps(answer).encode()
    return Exchange(method, path, "application/json", request, status, body)


def problems(spec: SpecConformance, *exchanges: Exchange) -> list[str]:
    return [f"{v.side}: {v.problem}" for v in spec.check(list(exchanges)).violations]


def test_a_conforming_answer_passes(spec: SpecConformance) -> None:
    report = spec.check([exchange("GET", f"/users/{USER['id']}", 200, USER)])
    assert (report.responses_checked, report.violations) == (1, [])


def test_a_user_without_flags_is_a_violation(spec: SpecConformance) -> None:
    user = {k: v for k, v in USER.items() if k != "flags"}
    assert problems(spec, exchange("GET", "/users/1", 200, user)) == [
        "response: at (root): 'flags' is a required property"
    ]


def test_literal_routes_win_over_parameters(spec: SpecConformance) -> None:
    assert spec.route("/users/@me") == "/users/@me"
    assert spec.route("/users/123") == "/users/{user_id}"
    assert spec.route("/webhooks/1/tok/messages/@original") == (
        "/webhooks/{webhook_id}/{webhook_token}/messages/@original"
    )
    assert problems(spec, exchange("GET", "/no/such/route", 404)) == [
        "request: the spec has no such route"
    ]


def test_request_bodies_are_checked(spec: SpecConformance) -> None:
    sent = exchange("POST", "/channels/1/messages", 400, {"code": 0, "message": "x"}, {"tts": 3})
    assert problems(spec, sent) == ["request: at tts: 3 is not of type 'boolean', 'null'"]


def test_snowflakes_may_be_integers_in_requests_only(spec: SpecConformance) -> None:
    upload = {"content": "card", "attachments": [{"id": 0, "filename": "card.png"}]}
    error = {"code": 0, "message": "x"}
    assert problems(spec, exchange("POST", "/channels/1/messages", 400, error, upload)) == []
    user = {**USER, "id": 80351110224678912}
    assert problems(spec, exchange("GET", "/users/1", 200, user)) == [
        "response: at id: 80351110224678912 is not of type 'string'"
    ]


def test_field_errors_may_carry_discords_string_codes(spec: SpecConformance) -> None:
    error = {
        "code": 50035,
        "message": "Invalid Form Body",
        "errors": {"content": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "…"}]}},
    }
    sent = {"content": "fits the spec, refused for another reason"}
    assert problems(spec, exchange("POST", "/channels/1/messages", 400, error, sent)) == []


def test_an_answer_with_no_body_expected_must_have_none(spec: SpecConformance) -> None:
    path = "/channels/1/messages/2/reactions/%F0%9F%98%82/@me"
    assert problems(spec, exchange("PUT", path, 204)) == []
    assert problems(spec, exchange("PUT", path, 204, {"ok": True})) != []


async def test_the_checked_emulator_fails_on_an_off_spec_answer(
    spec: SpecConformance, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = payloads.user_payload

    def without_flags(user: Any) -> dict[str, Any]:
        return {k: v for k, v in real(user).items() if k != "flags"}

    monkeypatch.setattr(payloads, "user_payload", without_flags)
    with pytest.raises(SpecViolation, match="'flags' is a required property"):
        async with checked_emulator("test-token") as emu:
            await _get(emu, f"/users/{emu.bot_user.id}")


async def _get(emu: DiscordEmulator, path: str) -> None:
    headers = {"Authorization": f"Bot {emu.token}"}
    async with (
        aiohttp.ClientSession(headers=headers) as session,
        session.get(emu.api_url + path) as answer,
    ):
        assert answer.status == 200


async def test_the_checked_emulator_fails_on_an_off_spec_request(spec: SpecConformance) -> None:
    with pytest.raises(SpecViolation, match="request: at tts: 3 is not of type"):
        await _post_tts_three()


async def _post_tts_three() -> None:
    """A message whose ``tts`` is a number: the emulator stores it, the spec refuses it."""
    async with checked_emulator("test-token") as emu:
        guild = emu.create_guild("g")
        channel = emu.create_text_channel(guild.id, "c")
        emu.add_bot_to_guild(guild.id)
        headers = {"Authorization": f"Bot {emu.token}"}
        url = f"{emu.api_url}/channels/{channel.id}/messages"
        async with (
            aiohttp.ClientSession(headers=headers) as session,
            session.post(url, json={"content": "hi", "tts": 3}) as answer,
        ):
            assert answer.status == 200
