"""A local Discord for end-to-end tests and offline demos.

The unmodified discord.py client logs into it over real sockets (REST on ``/api/v10``,
the gateway on ``/gateway``)::

    async with DiscordEmulator(token="test-token") as emu:
        emu.configure_discord_py()
        guild = emu.create_guild("Test Server")
        channel = emu.create_text_channel(guild.id, "contest")
        emu.add_bot_to_guild(guild.id)
        async with running_client(emu, bot):
            result = await emu.slash(guild.id, channel.id, alice.id, "caption submit", text="hi")
"""

from .emulator import DiscordEmulator
from .errors import DiscordAPIError
from .interactions import ApplicationDidNotRespond, InteractionResult
from .permissions import Permission
from .rules import Rules
from .server import Exchange, RequestRecord
from .state import Attachment, Channel, Guild, Member, Message, Role, User
from .testing import running_client

__all__ = [
    "ApplicationDidNotRespond",
    "Attachment",
    "Channel",
    "DiscordAPIError",
    "DiscordEmulator",
    "Exchange",
    "Guild",
    "InteractionResult",
    "Member",
    "Message",
    "Permission",
    "RequestRecord",
    "Role",
    "Rules",
    "User",
    "running_client",
]
