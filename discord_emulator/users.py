"""What the emulator's users do: post, react, run slash commands, click, fill in modals.

Every action goes through the same rules as the bot's REST calls and reaches the bot as the
gateway events Discord would send. Interaction methods wait until the bot has answered.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from . import commands as cmd
from .bodies import RequestBody, Upload
from .commands import CommandRegistry, Resolved
from .components import walk_components
from .gateway import GatewayServer
from .interactions import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
    ApplicationDidNotRespond,
    InteractionHub,
    InteractionResult,
)
from .service import DiscordService
from .state import Attachment, Message, State
from .world import as_id

T = TypeVar("T")

_BUTTON = (2,)
_SELECTS = (3, 5, 6, 7, 8)
_TEXT_INPUT = 4


class UserActions:
    """The acting half of the test API (mixed into :class:`DiscordEmulator`)."""

    state: State
    gateway: GatewayServer
    interactions: InteractionHub
    _service: DiscordService
    _commands: CommandRegistry

    if TYPE_CHECKING:

        @property
        def base_url(self) -> str: ...

        def message(self, message_id: Any) -> Message: ...

        async def wait_until(self, check: Callable[[], T | None], what: str = ...) -> T: ...

    async def send_message(
        self,
        user_id: Any,
        channel_id: Any,
        content: str = "",
        *,
        files: Sequence[tuple[str, bytes]] = (),
        reply_to: Any = None,
    ) -> Message:
        """A user posts a message (checked against their permissions)."""
        payload: dict[str, Any] = {"content": content}
        if reply_to is not None:
            payload["message_reference"] = {"message_id": str(as_id(reply_to))}
        uploads = [Upload(i, name, data) for i, (name, data) in enumerate(files)]
        body = RequestBody(payload, uploads)
        return self._service.post_message(as_id(channel_id), as_id(user_id), body)

    async def react(self, user_id: Any, channel_id: Any, message_id: Any, emoji: str) -> None:
        """A user adds a reaction (the bot gets MESSAGE_REACTION_ADD)."""
        message = self.state.message(as_id(channel_id), as_id(message_id))
        self._service.add_reaction(message, as_id(user_id), emoji)

    async def unreact(self, user_id: Any, channel_id: Any, message_id: Any, emoji: str) -> None:
        """A user removes their reaction (the bot gets MESSAGE_REACTION_REMOVE)."""
        message = self.state.message(as_id(channel_id), as_id(message_id))
        self._service.remove_reaction(message, as_id(user_id), emoji, actor_id=as_id(user_id))

    # -- interactions ----------------------------------------------------------------------

    async def slash(
        self,
        guild_id: Any,
        channel_id: Any,
        user_id: Any,
        command: str,
        *,
        options: Mapping[str, Any] | None = None,
        settle: bool = True,
        **named_options: Any,
    ) -> InteractionResult:
        """A user runs ``/command`` (``"caption submit"`` for subcommands) with options by name.

        Waits until the bot has answered; with ``settle`` a deferred "thinking" answer must also
        be filled in. Like Discord, refuses (``PermissionError``) when the member lacks the
        command's ``default_member_permissions``.
        """
        values = {**(options or {}), **named_options}
        name, *path = command.split()
        guild, channel, user = as_id(guild_id), as_id(channel_id), as_id(user_id)
        registered = self._commands.find(guild, name)
        required = registered.get("default_member_permissions")
        if required is not None and not self._has(channel, user, int(required)):
            raise PermissionError(f"{user} may not use /{name} (default_member_permissions)")
        data = cmd.command_data(registered, path, values, self._resolver(guild, channel), user)
        result = self._interact(APPLICATION_COMMAND, guild, channel, user, data, name=command)
        return await self._answered(result, settle)

    async def autocomplete(
        self,
        guild_id: Any,
        channel_id: Any,
        user_id: Any,
        command: str,
        focused: str,
        **typed: Any,
    ) -> InteractionResult:
        """A user types into option ``focused``; the bot's suggestions land in ``.choices``."""
        name, *path = command.split()
        guild, channel, user = as_id(guild_id), as_id(channel_id), as_id(user_id)
        registered = self._commands.find(guild, name)
        resolver = self._resolver(guild, channel)
        data = cmd.command_data(registered, path, typed, resolver, user, focused=focused)
        result = self._interact(AUTOCOMPLETE, guild, channel, user, data, name=command)
        return await self._answered(result, settle=False)

    async def press_button(
        self, message_id: Any, custom_id: str, user_id: Any
    ) -> InteractionResult:
        """A user clicks the button ``custom_id`` on a stored message (ephemeral ones too)."""
        message = self.message(message_id)
        component = _find_component(message.components, custom_id, _BUTTON)
        data = {"custom_id": custom_id, "component_type": component["type"]}
        result = self._interact(
            MESSAGE_COMPONENT, message.guild_id, message.channel_id, as_id(user_id), data, message
        )
        return await self._answered(result, settle=False)

    async def select(
        self,
        message_id: Any,
        custom_id: str,
        user_id: Any,
        values: list[str],
    ) -> InteractionResult:
        """A user picks ``values`` (option values, or ids for user/role/channel selects)."""
        message = self.message(message_id)
        component = _find_component(message.components, custom_id, _SELECTS)
        data = {"custom_id": custom_id, "component_type": component["type"], "values": values}
        result = self._interact(
            MESSAGE_COMPONENT, message.guild_id, message.channel_id, as_id(user_id), data, message
        )
        return await self._answered(result, settle=False)

    async def submit_modal(
        self,
        opened: InteractionResult,
        values: Mapping[str, str | Sequence[str]],
        *,
        user_id: Any = None,
    ) -> InteractionResult:
        """Fill in and submit the modal the bot opened in answer to ``opened``.

        ``values`` maps each text input's ``custom_id`` to what the user typed (a select's to
        the chosen values); text inputs left out are submitted empty.
        """
        if opened.modal is None:
            raise ValueError("the bot did not answer that interaction with a modal")
        user = opened.user_id if user_id is None else as_id(user_id)
        data = {
            "custom_id": opened.modal["custom_id"],
            "components": _fill_modal(opened.modal.get("components", []), values),
        }
        source = None
        if opened.source_message_id is not None:
            source = self.state.messages.get(opened.source_message_id)
        result = self._interact(
            MODAL_SUBMIT, opened.guild_id, opened.channel_id, user, data, source, opened_by=opened
        )
        return await self._answered(result, settle=True)

    def _has(self, channel_id: int, user_id: int, permissions: int) -> bool:
        return self._service.permissions(channel_id, user_id) & permissions == permissions

    def _resolver(self, guild_id: int, channel_id: int) -> Resolved:
        def new_attachment(filename: str, data: bytes) -> Attachment:
            attachment = Attachment(self.state.ids.now(), channel_id, filename, data)
            self.state.attachments[attachment.id] = attachment
            return attachment

        return Resolved(
            self.state, guild_id, self._service.permissions, new_attachment, self.base_url
        )

    def _interact(
        self,
        kind: int,
        guild_id: int,
        channel_id: int,
        user_id: int,
        data: dict[str, Any],
        source: Message | None = None,
        *,
        name: str | None = None,
        opened_by: InteractionResult | None = None,
    ) -> InteractionResult:
        if not self.gateway.has_session:
            raise RuntimeError("no bot has a gateway session to receive the interaction")
        return self.interactions.create(
            kind,
            guild_id=guild_id,
            channel_id=channel_id,
            user_id=user_id,
            data=data,
            source=source,
            name=name,
            opened_by=opened_by,
        )

    async def _answered(self, result: InteractionResult, settle: bool) -> InteractionResult:
        """Wait for the answer; past the 3-second deadline without one, fail as Discord does."""

        def done() -> bool:
            if result.missed_deadline:
                return True
            return result.responded and not (settle and result.loading)

        await self.wait_until(done, f"the bot to answer interaction {result.name or result.id}")
        if result.missed_deadline:
            what = f"/{result.name}" if result.name else f"interaction {result.id}"
            answered = (
                f"its first answer came after {result.first_answer_s:.2f} s"
                if result.first_answer_s is not None
                else "no answer came"
            )
            raise ApplicationDidNotRespond(
                f"The application did not respond: {what} needs an initial response within "
                f"{result.deadline_s:g} s and {answered} (receiving-and-responding.mdx)"
            )
        return result


def _find_component(
    components: list[dict[str, Any]], custom_id: str, kinds: tuple[int, ...]
) -> dict[str, Any]:
    for component in walk_components(components):
        if component.get("custom_id") == custom_id:
            if component["type"] not in kinds:
                raise ValueError(f"component {custom_id!r} is of type {component['type']}")
            if component.get("disabled"):
                raise ValueError(f"component {custom_id!r} is disabled")
            return component
    raise LookupError(f"no component with custom_id {custom_id!r} on that message")


def _fill_modal(
    components: list[dict[str, Any]], values: Mapping[str, str | Sequence[str]]
) -> list[dict[str, Any]]:
    """Mirror a modal's layout (action rows or labels) with the submitted values."""
    filled: list[dict[str, Any]] = []
    for component in components:
        if component["type"] == 1:
            filled.append({"type": 1, "components": _fill_modal(component["components"], values)})
        elif component["type"] == 18:
            filled.extend(
                {"type": 18, "component": inner}
                for inner in _fill_modal([component["component"]], values)
            )
        elif component.get("custom_id") in values:
            custom_id = component["custom_id"]
            answer: dict[str, Any] = {"type": component["type"], "custom_id": custom_id}
            value = values[custom_id]
            if component["type"] == _TEXT_INPUT:
                answer["value"] = str(value)
            else:
                answer["values"] = [value] if isinstance(value, str) else list(value)
            filled.append(answer)
        elif component["type"] == _TEXT_INPUT:
            filled.append({"type": _TEXT_INPUT, "custom_id": component["custom_id"], "value": ""})
    return filled
