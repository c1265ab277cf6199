"""Who a message actually pings, given its content, ``allowed_mentions`` and permissions.

Follows https://discord.com/developers/docs/resources/message#allowed-mentions-object.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .state import Guild

_USER = re.compile(r"<@!?(\d+)>")
_ROLE = re.compile(r"<@&(\d+)>")
_EVERYONE = re.compile(r"@(?:everyone|here)")


@dataclass(frozen=True)
class Pings:
    """The notifications a message causes."""

    users: frozenset[int] = frozenset()
    roles: frozenset[int] = frozenset()
    everyone: bool = False


def resolve_pings(
    content: str,
    allowed_mentions: dict[str, Any] | None,
    *,
    guild: Guild,
    can_mention_everyone: bool,
    replied_user_id: int | None = None,
) -> Pings:
    """Apply Discord's rules: without ``allowed_mentions`` everything parsed may ping.

    Roles ping only when mentionable or the author may mention everyone; ``@everyone`` and
    ``@here`` need Mention Everyone.
    """
    if allowed_mentions is None:
        parse = {"users", "roles", "everyone"}
        allowed_users: set[int] = set()
        allowed_roles: set[int] = set()
        replied_user = True
    else:
        parse = set(allowed_mentions.get("parse", []))
        allowed_users = {int(u) for u in allowed_mentions.get("users", [])}
        allowed_roles = {int(r) for r in allowed_mentions.get("roles", [])}
        replied_user = bool(allowed_mentions.get("replied_user", False))

    users = {
        uid
        for uid in map(int, _USER.findall(content))
        if uid in guild.members and ("users" in parse or uid in allowed_users)
    }
    if replied_user and replied_user_id is not None:
        users.add(replied_user_id)

    roles = set()
    for rid in map(int, _ROLE.findall(content)):
        role = guild.roles.get(rid)
        if role is None or not ("roles" in parse or rid in allowed_roles):
            continue
        if role.mentionable or can_mention_everyone:
            roles.add(rid)

    everyone = bool(
        "everyone" in parse and can_mention_everyone and _EVERYONE.search(content) is not None
    )
    return Pings(frozenset(users), frozenset(roles), everyone)
