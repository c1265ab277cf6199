"""Discord's rules as pure functions: snowflakes, permissions, mentions."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from discord_emulator import Rules
from discord_emulator.mentions import resolve_pings
from discord_emulator.permissions import (
    ALL_PERMISSIONS,
    DEFAULT_EVERYONE,
    Permission,
    base_permissions,
    channel_permissions,
)
from discord_emulator.snowflake import SnowflakeFactory, snowflake_time
from discord_emulator.state import Channel, ChannelType, Guild, Member, Overwrite, Role

NOW = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)


DISCORD_EPOCH = dt.datetime(2015, 1, 1, tzinfo=dt.UTC)


@given(st.integers(min_value=0, max_value=2**41))
def test_snowflakes_encode_their_creation_time(ms_after_epoch: int) -> None:
    when = DISCORD_EPOCH + dt.timedelta(milliseconds=ms_after_epoch)
    created = snowflake_time(SnowflakeFactory().at(when))
    assert abs(created - when) < dt.timedelta(milliseconds=1)


def test_snowflakes_for_now_strictly_increase() -> None:
    factory = SnowflakeFactory()
    ids = [factory.now() for _ in range(10_000)]
    assert ids == sorted(set(ids))


def guild_with(*roles: Role, owner_id: int = 1) -> Guild:
    guild = Guild(id=100, name="g", owner_id=owner_id)
    guild.roles[100] = Role(100, 100, "@everyone", int(DEFAULT_EVERYONE))
    for role in roles:
        guild.roles[role.id] = role
    return guild


def test_owner_and_administrator_may_do_anything() -> None:
    admins = Role(7, 100, "admins", int(Permission.ADMINISTRATOR))
    guild = guild_with(admins)
    guild.members[2] = Member(2, 100, NOW, roles=[7])
    guild.members[3] = Member(3, 100, NOW)
    assert base_permissions(guild, 1) == ALL_PERMISSIONS
    assert base_permissions(guild, 2) == ALL_PERMISSIONS
    assert base_permissions(guild, 3) == DEFAULT_EVERYONE


def test_overwrites_apply_everyone_then_roles_then_member() -> None:
    judges = Role(7, 100, "judges", 0)
    guild = guild_with(judges)
    guild.members[2] = Member(2, 100, NOW, roles=[7])
    channel = Channel(
        50,
        100,
        "contest",
        overwrites=[
            Overwrite(100, 0, deny=Permission.SEND_MESSAGES | Permission.ADD_REACTIONS),
            Overwrite(7, 0, allow=Permission.SEND_MESSAGES | Permission.MANAGE_MESSAGES),
            Overwrite(2, 1, deny=Permission.MANAGE_MESSAGES),
        ],
    )
    perms = channel_permissions(guild, channel, None, 2)
    assert perms & Permission.SEND_MESSAGES
    assert not perms & Permission.ADD_REACTIONS
    assert not perms & Permission.MANAGE_MESSAGES


def test_threads_inherit_their_parents_overwrites() -> None:
    guild = guild_with()
    guild.members[2] = Member(2, 100, NOW)
    parent = Channel(
        50, 100, "contest", overwrites=[Overwrite(100, 0, deny=Permission.VIEW_CHANNEL)]
    )
    thread = Channel(51, 100, "t", type=ChannelType.PUBLIC_THREAD, parent_id=50)
    assert channel_permissions(guild, thread, parent, 2) == 0


def test_without_send_messages_attachments_and_everyone_mentions_are_denied() -> None:
    guild = guild_with()
    guild.everyone_role.permissions |= Permission.MENTION_EVERYONE
    guild.members[2] = Member(2, 100, NOW)
    channel = Channel(50, 100, "c", overwrites=[Overwrite(100, 0, deny=Permission.SEND_MESSAGES)])
    perms = channel_permissions(guild, channel, None, 2)
    assert perms & Permission.VIEW_CHANNEL
    assert not perms & (Permission.ATTACH_FILES | Permission.MENTION_EVERYONE)


def mention_guild() -> Guild:
    guild = guild_with(Role(7, 100, "judges", 0, mentionable=True), Role(8, 100, "mods", 0))
    for user_id in (2, 3):
        guild.members[user_id] = Member(user_id, 100, NOW)
    return guild


CONTENT = "@here <@2> <@!3> <@999> <@&7> <@&8>"


def test_without_allowed_mentions_everything_permitted_pings() -> None:
    pings = resolve_pings(CONTENT, None, guild=mention_guild(), can_mention_everyone=False)
    assert pings.users == {2, 3}
    assert pings.roles == {7}, "an unmentionable role needs Mention Everyone"
    assert not pings.everyone


def test_allowed_mentions_restrict_pings() -> None:
    guild = mention_guild()
    none = {"parse": []}
    assert resolve_pings(CONTENT, none, guild=guild, can_mention_everyone=True).users == set()
    only_three = {"parse": [], "users": ["3"], "roles": ["8"]}
    pings = resolve_pings(CONTENT, only_three, guild=guild, can_mention_everyone=True)
    assert (pings.users, pings.roles, pings.everyone) == ({3}, {8}, False)
    everyone = resolve_pings(
        CONTENT, {"parse": ["everyone"]}, guild=guild, can_mention_everyone=True
    )
    assert everyone.everyone


def test_replies_ping_the_replied_user_unless_told_not_to() -> None:
    guild = mention_guild()
    default = resolve_pings("hi", None, guild=guild, can_mention_everyone=False, replied_user_id=2)
    assert default.users == {2}
    quiet = resolve_pings(
        "hi", {"parse": []}, guild=guild, can_mention_everyone=False, replied_user_id=2
    )
    assert quiet.users == set()


def test_every_rule_is_on_unless_switched_off() -> None:
    assert Rules() == Rules(True, True, True, True, True, True)
    assert Rules.lenient() == Rules(False, False, False, False, False, False)
    assert Rules().without("rate_limits") == Rules(rate_limits=False)
    with pytest.raises(ValueError, match="unknown rules"):
        Rules().without("rate_limit")
