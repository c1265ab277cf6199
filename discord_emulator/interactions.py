"""Interactions: INTERACTION_CREATE going out, callbacks and webhook follow-ups coming back.

Each interaction is tracked by an :class:`InteractionResult` that tests hold on to; it updates
as the bot responds, edits its response and sends follow-ups.

With the ``interaction_deadline`` rule (``receiving-and-responding.mdx``, "Responding to an
Interaction"): the initial response must come within 3 s of the event, or the callback is refused
with 404 / 10062 Unknown interaction and the token is invalidated; follow-ups and edits use the
token for 15 minutes, then get 401 / 50027 Invalid Webhook Token.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import payloads
from .bodies import RequestBody
from .clock import EmulatorClock
from .errors import DiscordAPIError, invalid_form_body, invalid_webhook_token, unknown
from .limits import check_choices, check_modal
from .rules import INITIAL_RESPONSE_DEADLINE_S, INTERACTION_TOKEN_LIFETIME_S
from .service import DiscordService
from .state import EPHEMERAL_FLAG, LOADING_FLAG, Attachment, InteractionStamp, Message
from .waiting import ChangeNotifier

PING, APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 1, 2, 3, 4, 5

PONG, CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE_MESSAGE = 1, 4, 5, 6
UPDATE_MESSAGE, AUTOCOMPLETE_RESULT, MODAL = 7, 8, 9

_MESSAGE_RESPONSES = {
    CHANNEL_MESSAGE,
    DEFERRED_CHANNEL_MESSAGE,
    DEFERRED_UPDATE_MESSAGE,
    UPDATE_MESSAGE,
}
_ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024


class ApplicationDidNotRespond(AssertionError):
    """The bot gave no initial response within 3 s: Discord shows the member "The application
    did not respond" and the interaction is lost."""


@dataclass
class InteractionResult:
    """How the bot answered one interaction; fields update live as the bot keeps responding.

    ``response_type`` is the callback type (4 message, 5 deferred, 6 deferred update,
    7 update, 8 autocomplete, 9 modal). ``original`` is the response message (for 6/7, the
    message whose component was used); ``content``, ``embeds``, ``files``, ``components`` and
    ``ephemeral`` read from it.

    ``first_answer_s`` is how long after the event the bot's first callback arrived (accepted or
    refused as late); ``late`` says it came after the 3-second deadline.
    """

    id: int
    token: str
    type: int
    guild_id: int
    channel_id: int
    user_id: int
    name: str | None = None
    source_message_id: int | None = None
    opened_by: InteractionResult | None = field(default=None, repr=False)
    response_type: int | None = None
    original: Message | None = None
    followups: list[Message] = field(default_factory=list)
    modal: dict[str, Any] | None = None
    choices: list[dict[str, Any]] | None = None
    created_at: float = 0.0
    first_answer_s: float | None = None
    late: bool = False
    deadline_s: float | None = INITIAL_RESPONSE_DEADLINE_S
    notifier: ChangeNotifier | None = field(default=None, repr=False, compare=False)
    clock: EmulatorClock | None = field(default=None, repr=False, compare=False)

    @property
    def responded(self) -> bool:
        return self.response_type is not None

    @property
    def missed_deadline(self) -> bool:
        """No initial response was accepted and the 3-second deadline has passed."""
        if self.responded or self.deadline_s is None:
            return False
        return self.late or (self.clock is not None and self.age() > self.deadline_s)

    def age(self) -> float:
        """Seconds since the event was dispatched, on the emulator's clock."""
        return 0.0 if self.clock is None else self.clock.time() - self.created_at

    @property
    def content(self) -> str | None:
        return None if self.original is None else self.original.content

    @property
    def ephemeral(self) -> bool:
        return self.original is not None and self.original.ephemeral

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return [] if self.original is None else self.original.embeds

    @property
    def files(self) -> list[Attachment]:
        return [] if self.original is None else self.original.attachments

    @property
    def components(self) -> list[dict[str, Any]]:
        return [] if self.original is None else self.original.components

    @property
    def loading(self) -> bool:
        """Deferred with "thinking…" and not yet filled in."""
        return self.original is not None and bool(self.original.flags & LOADING_FLAG)

    async def wait_for_response(self) -> InteractionResult:
        """Wait until the bot answered and, if it deferred with "thinking…", filled it in."""
        await self._wait(lambda: self.responded and not self.loading, "a response")
        return self

    async def wait_for_followups(self, count: int = 1) -> list[Message]:
        """Wait until the bot sent at least ``count`` follow-ups; returns all of them."""
        await self._wait(lambda: len(self.followups) >= count, f"{count} follow-up(s)")
        return list(self.followups)

    async def _wait(self, check: Callable[[], bool], what: str) -> None:
        if self.notifier is None:
            raise RuntimeError("this result is not attached to an emulator")
        await self.notifier.wait_for(check, f"{what} to interaction {self.id}")


class InteractionHub:
    """Creates interactions and applies the bot's callbacks and webhook calls to them."""

    def __init__(self, service: DiscordService) -> None:
        self._service = service
        self._by_token: dict[str, InteractionResult] = {}

    @property
    def _enforced(self) -> bool:
        return self._service.rules.interaction_deadline

    @property
    def results(self) -> list[InteractionResult]:
        """Every interaction so far, oldest first."""
        return list(self._by_token.values())

    @property
    def first_answer_times(self) -> list[float]:
        """Each interaction's ``first_answer_s``, oldest first, for those the bot answered."""
        return [r.first_answer_s for r in self._by_token.values() if r.first_answer_s is not None]

    def render(self, message: Message) -> dict[str, Any]:
        return self._service.render(message)

    def create(
        self,
        kind: int,
        *,
        guild_id: int,
        channel_id: int,
        user_id: int,
        data: dict[str, Any],
        source: Message | None = None,
        name: str | None = None,
        opened_by: InteractionResult | None = None,
    ) -> InteractionResult:
        """Dispatch INTERACTION_CREATE for ``user_id`` and start tracking the answer
        (``opened_by``: for a modal submit, the interaction answered with the modal)."""
        service, state = self._service, self._service.state
        member = state.member(guild_id, user_id)
        channel = state.channel(channel_id)
        user_perms = service.permissions(channel_id, user_id)
        result = InteractionResult(
            id=state.ids.now(),
            token=secrets.token_urlsafe(48),
            type=kind,
            guild_id=guild_id,
            channel_id=channel_id,
            user_id=user_id,
            name=name,
            source_message_id=None if source is None else source.id,
            opened_by=opened_by,
            created_at=service.clock.time(),
            deadline_s=INITIAL_RESPONSE_DEADLINE_S if self._enforced else None,
            notifier=service.notifier,
            clock=service.clock,
        )
        payload: dict[str, Any] = {
            "id": str(result.id),
            "application_id": str(state.application_id),
            "type": kind,
            "data": data,
            "guild_id": str(guild_id),
            "guild": {"id": str(guild_id), "locale": "en-US", "features": []},
            "channel_id": str(channel_id),
            "channel": payloads.channel_payload(channel, permissions=user_perms),
            "member": payloads.member_payload(state, member, permissions=user_perms),
            "token": result.token,
            "version": 1,
            "app_permissions": str(service.permissions(channel_id, state.bot_user_id)),
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild_id)},
            "context": 0,
            "attachment_size_limit": _ATTACHMENT_SIZE_LIMIT,
        }
        if source is not None:
            payload["message"] = service.render(source)
        self._by_token[result.token] = result
        service.gateway.dispatch("INTERACTION_CREATE", payload)
        return result

    def _find(self, token: str, interaction_id: int | None = None) -> InteractionResult:
        result = self._by_token.get(token)
        if result is None or (interaction_id is not None and result.id != interaction_id):
            raise unknown("interaction" if interaction_id is not None else "Webhook")
        return result

    def _webhook(self, token: str) -> InteractionResult:
        """The interaction behind a webhook call, while its token is still valid."""
        result = self._find(token)
        if self._enforced:
            age = result.age()
            expired = age > INTERACTION_TOKEN_LIFETIME_S
            if expired or (not result.responded and age > INITIAL_RESPONSE_DEADLINE_S):
                raise invalid_webhook_token()
        return result

    def _accept_initial_response(self, result: InteractionResult) -> None:
        """Record the first answer's latency; refuse it past the deadline (10062)."""
        age = result.age()
        if result.first_answer_s is None:
            result.first_answer_s = age
        if self._enforced and (result.late or age > INITIAL_RESPONSE_DEADLINE_S):
            result.late = True
            self._service.notifier.notify()
            raise unknown("interaction")

    # -- POST /interactions/{id}/{token}/callback ----------------------------------------

    def respond(self, interaction_id: int, token: str, body: RequestBody) -> dict[str, Any]:
        """Apply an initial response and return Discord's ``with_response`` answer."""
        result = self._find(token, interaction_id)
        if result.responded:
            raise DiscordAPIError(400, 40060, "Interaction has already been acknowledged.")
        self._accept_initial_response(result)
        kind = int(body.payload.get("type", 0))
        data = dict(body.payload.get("data") or {})
        inner = RequestBody(data, body.uploads)
        source = self._source(result)
        if self._service.rules.message_limits and kind in (AUTOCOMPLETE_RESULT, MODAL):
            (check_choices if kind == AUTOCOMPLETE_RESULT else check_modal)(data)
        if kind in (DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE) and source is None:
            raise invalid_form_body("type", "This interaction has no message to update.")
        if kind == CHANNEL_MESSAGE:
            result.original = self._post(result, inner, at=("data",))
        elif kind == DEFERRED_CHANNEL_MESSAGE:
            flags = LOADING_FLAG | (int(data.get("flags") or 0) & EPHEMERAL_FLAG)
            result.original = self._post(result, RequestBody({}), extra_flags=flags)
        elif kind == DEFERRED_UPDATE_MESSAGE:
            result.original = source
        elif kind == UPDATE_MESSAGE and source is not None:
            result.original = self._service.edit_message(
                source, inner, 0, check_author=False, at=("data",)
            )
        elif kind == AUTOCOMPLETE_RESULT and result.type == AUTOCOMPLETE:
            result.choices = list(data.get("choices") or [])
        elif kind == MODAL and result.type in (APPLICATION_COMMAND, MESSAGE_COMPONENT):
            result.modal = data
        elif not (kind == PONG and result.type == PING):
            raise invalid_form_body(
                "type", f"Response type {kind} is invalid for this interaction."
            )
        result.response_type = kind
        self._service.notifier.notify()
        return self._callback_answer(result, kind)

    def _callback_answer(self, result: InteractionResult, kind: int) -> dict[str, Any]:
        interaction: dict[str, Any] = {"id": str(result.id), "type": result.type}
        answer: dict[str, Any] = {"interaction": interaction}
        if kind in _MESSAGE_RESPONSES and result.original is not None:
            interaction.update(
                response_message_id=str(result.original.id),
                response_message_loading=result.loading,
                response_message_ephemeral=result.ephemeral,
            )
        if kind in (CHANNEL_MESSAGE, UPDATE_MESSAGE) and result.original is not None:
            # receiving-and-responding.mdx: the resource's message is "Only present if type is
            # either CHANNEL_MESSAGE_WITH_SOURCE or UPDATE_MESSAGE".
            answer["resource"] = {"type": kind, "message": self._service.render(result.original)}
        return answer

    def _source(self, result: InteractionResult) -> Message | None:
        if result.source_message_id is None:
            return None
        return self._service.state.messages.get(result.source_message_id)

    def _post(
        self,
        result: InteractionResult,
        body: RequestBody,
        extra_flags: int = 0,
        at: tuple[str, ...] = (),
    ) -> Message:
        return self._service.post_message(
            result.channel_id,
            self._service.state.bot_user_id,
            body,
            check_permissions=False,
            interaction=_stamp(result),
            extra_flags=extra_flags,
            at=at,
        )

    # -- /webhooks/{application_id}/{token} ----------------------------------------------

    def followup(self, token: str, body: RequestBody) -> Message:
        """``POST /webhooks/{app}/{token}``: a follow-up message (after the initial response)."""
        result = self._webhook(token)
        if not result.responded:
            raise unknown("Webhook")
        if result.loading and result.original is not None:
            # As on Discord, the first follow-up after a "thinking…" deferral fills that message in.
            message = self._service.edit_message(result.original, body, 0, check_author=False)
            self._service.notifier.notify()
            return message
        message = self._post(result, body)
        result.followups.append(message)
        self._service.notifier.notify()
        return message

    def message(self, token: str, message_id: str) -> Message:
        """The response (``@original``) or a follow-up, as the webhook routes address them."""
        result = self._webhook(token)
        candidates = [result.original] if message_id == "@original" else result.followups
        for message in candidates:
            if message is None or message.deleted:
                continue
            if message_id == "@original" or message.id == int(message_id):
                return message
        raise unknown("Message")

    def edit(self, token: str, message_id: str, body: RequestBody) -> Message:
        message = self.message(token, message_id)
        return self._service.edit_message(message, body, 0, check_author=False)

    def delete(self, token: str, message_id: str) -> None:
        message = self.message(token, message_id)
        self._service.delete_message(message, 0, check=False)


def _stamp(result: InteractionResult) -> InteractionStamp:
    """The ``interaction_metadata`` of messages answering ``result``."""
    return InteractionStamp(
        result.id,
        result.type,
        result.user_id,
        result.name,
        interacted_message_id=result.source_message_id
        if result.type == MESSAGE_COMPONENT
        else None,
        triggering=None if result.opened_by is None else _stamp(result.opened_by),
    )
