"""The bot's AI: one shared ranker on its own worker threads, each guild scored with its own adapter.

Every community starts on the shipped base adapter (trained on NYCCC crowd votes). Each night its
own votes refit a community adapter; the ranker promotes it only when it beats the current one on
the community's newest contests by more than the noise. Versions are kept on disk and in SQLite,
the swap is atomic (a new file, then one transaction), and a rollback is one call.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from bot.rules.tally import EntryRatings, tally_contest
from ranker import (
    CARTOON_SETTINGS,
    JOKE_BUDGET_S,
    TOPIC_SETTINGS,
    Adapter,
    AIRanking,
    AsyncJokeModels,
    AsyncLLM,
    AsyncRanker,
    CaptionVotes,
    ContestVotes,
    JokeRun,
    RefitResult,
    TasteFindings,
    generate_jokes,
    load_adapter,
    pick_examples,
    resolve_device,
    save_adapter,
)
from storage import adapters, audit, contests, jokes
from storage.models import RatingCounts

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.config import Settings
    from bot.store import Store

log = logging.getLogger(__name__)


def caption_votes(text: str, counts: RatingCounts) -> CaptionVotes:
    """A stored caption's counts as the ranker learns from them (the one conversion)."""
    return CaptionVotes(text, *counts)


def crowd_winner(counts: list[RatingCounts]) -> int:
    """The position of the caption the crowd ranks first (the results' own tally)."""
    ratings = [EntryRatings(position, 0, c) for position, c in enumerate(counts)]
    return tally_contest(ratings)[0].entry_id


class CommunityAI:
    def __init__(
        self,
        ranker: AsyncRanker,
        llm: AsyncLLM | None,
        store: Store,
        adapter_dir: Path,
        clock: Clock,
        joke_budget_s: float = JOKE_BUDGET_S,
    ) -> None:
        self.ranker = ranker
        self.llm = llm
        self.store = store
        self.adapter_dir = adapter_dir
        self.clock = clock
        self.base = ranker.adapter
        self._adapters: dict[int, Adapter] = {}
        self._fallbacks: dict[int, str] = {}  # guild -> why its active adapter is not applied
        self._rng = random.Random()
        self.joke_budget_s = joke_budget_s  # a slow machine or model server may need longer

    @classmethod
    async def load(cls, settings: Settings, store: Store, clock: Clock) -> CommunityAI:
        """Load the encoder and the base adapter off the event loop, and start the LLM's process
        (on the same device as the encoder: ``PUNCHLINE_DEVICE``, or CUDA when torch sees one).

        Without a usable LLM the bot still ranks; only /joke and suggestions are off.
        """
        device = resolve_device(None if settings.device == "auto" else settings.device)
        ranker = await AsyncRanker.create(encoder_path=settings.encoder, device=device)
        try:
            llm = await AsyncLLM.start(settings.llm_url or settings.llm, device=device)
        except Exception:  # a missing or broken model file: jokes are off, ranking still works
            log.exception("the LLM could not load; /joke is off")
            llm = None
        return cls(ranker, llm, store, settings.adapter_dir, clock)

    @property
    def writes_jokes(self) -> bool:
        return self.llm is not None

    async def adapter_for(self, guild_id: int) -> Adapter:
        """The guild's active adapter (cached), or the base adapter when it has none or its own
        cannot be applied (unreadable, or fitted on another encoder's embeddings: see
        ``fallback_reason``; the nightly refit then starts again from the base)."""
        if guild_id not in self._adapters:
            active = await self.store.call(adapters.active_adapter, guild_id)
            adapter = self.base
            if active is not None:
                try:
                    loaded = await asyncio.to_thread(load_adapter, active.path)
                    problem = self.ranker.ranker.usable(loaded)
                except (OSError, ValueError) as error:
                    problem = str(error)
                if problem is None:
                    adapter = loaded
                else:
                    self._fallbacks[guild_id] = f"adapter v{active.version} not applied: {problem}"
                    log.error("guild %s: %s; using the base adapter", guild_id, problem)
            self._adapters[guild_id] = adapter
        return self._adapters[guild_id]

    async def fallback_reason(self, guild_id: int) -> str | None:
        """Why the guild's active adapter is not the one scoring (``None`` when it is)."""
        await self.adapter_for(guild_id)
        return self._fallbacks.get(guild_id)

    async def rank(self, guild_id: int, description: str, captions: list[str]) -> AIRanking:
        return await self.ranker.rank(
            description, captions, adapter=await self.adapter_for(guild_id)
        )

    async def community_contests(self, guild_id: int) -> list[ContestVotes]:
        """The guild's closed contests with each caption's rating counts, oldest first."""
        history = await self.store.call(contests.closed_contest_votes, guild_id)
        return [_contest_votes(c) for c in history]

    async def refit(self, guild_id: int) -> RefitResult:
        """Refit the guild's adapter on its closed contests; keep it only if it is better."""
        data = await self.community_contests(guild_id)
        result = await self.ranker.refit(data, await self.adapter_for(guild_id))
        metrics = {
            "reason": result.reason,
            "pairs_train": result.pairs_train,
            "pairs_heldout": result.pairs_heldout,
            "accuracy_new": result.accuracy_new,
            "accuracy_current": result.accuracy_current,
            "difference_ci": result.difference_ci,
            "contests_heldout": len(result.contests_heldout),
            "seconds": round(result.seconds, 2),
        }
        now = self.clock.now()
        if result.adapter is not None:
            path = self.adapter_dir / str(guild_id) / f"{result.adapter.version}.npz"
            await asyncio.to_thread(save_adapter, result.adapter, path)
            version = await self.store.call(
                adapters.register_adapter,
                guild_id,
                str(path),
                metrics,
                promote=result.promoted,
                now=now,
            )
            metrics["version"] = version.version
            if result.promoted:
                self._adapters[guild_id] = result.adapter
                self._fallbacks.pop(guild_id, None)
        await self.store.call(
            audit.log_action,
            guild_id,
            None,
            "ranker.refit",
            None,
            {**metrics, "promoted": result.promoted},
            now=now,
        )
        log.info(
            "guild %s: refit %s (%s)",
            guild_id,
            "promoted" if result.promoted else "kept the current adapter",
            result.reason,
        )
        return result

    def forget_adapter(self, guild_id: int) -> None:
        """Drop the guild's cached adapter: the next ranking loads its active version anew
        (after ``/ranker rollback`` changed it in the database)."""
        self._adapters.pop(guild_id, None)
        self._fallbacks.pop(guild_id, None)

    async def jokes(self, guild_id: int | None, scene: str, *, cartoon: bool = False) -> JokeRun:
        """Candidates for ``scene`` (a member's topic, or a cartoon's description), gated
        (safety, fluency, relevance, copies) and ranked by the guild's adapter. Raises the LLM's
        ``LLMError``/``ModelTimeout``/``ModelCrashed``."""
        if self.llm is None:
            raise RuntimeError("no LLM is loaded")
        best = await self.store.call(jokes.best_captions, guild_id) if guild_id else []
        blocked = await self.store.call(jokes.blocked_terms, guild_id) if guild_id else []
        adapter = await self.adapter_for(guild_id) if guild_id else self.base
        return await generate_jokes(
            AsyncJokeModels(self.llm, self.ranker, adapter),
            scene=scene,
            examples=pick_examples(best),
            blocked=blocked,
            known=[caption for _, caption in best],
            settings=replace(
                CARTOON_SETTINGS if cartoon else TOPIC_SETTINGS, budget_s=self.joke_budget_s
            ),
            rng=self._rng,
        )

    async def taste(self, guild_id: int) -> TasteFindings | None:
        """What this community's votes reward and how far to trust the AI; None without enough votes."""
        history = await self.store.call(contests.closed_contest_votes, guild_id)
        winners = [crowd_winner([counts for _, counts in c["captions"]]) for c in history]
        return await self.ranker.taste(
            [_contest_votes(c) for c in history], winners, await self.adapter_for(guild_id)
        )

    async def aclose(self) -> None:
        await self.ranker.aclose()
        if self.llm is not None:
            await self.llm.aclose()


def _contest_votes(contest: dict) -> ContestVotes:
    return ContestVotes(
        f"{contest['day']}#{contest['contest_id']}",
        tuple(caption_votes(text, counts) for text, counts in contest["captions"]),
        contest["description"],
    )


async def load_ai(settings: Settings, store: Store, clock: Clock) -> CommunityAI | None:
    """The AI, or None (results then show the crowd's ranking alone) when the models can't load."""
    try:
        return await CommunityAI.load(settings, store, clock)
    except Exception:  # the bot runs its contests without an AI rather than not at all
        log.exception("the AI ranker could not load; running without it")
        return None
