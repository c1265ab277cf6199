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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ranker import (
    Adapter,
    AIRanking,
    AsyncLLM,
    AsyncRanker,
    CaptionVotes,
    ContestVotes,
    RefitPolicy,
    RefitResult,
    load_adapter,
    load_llm,
    save_adapter,
)
from ranker.jokes import JokeRun, generate_jokes, pick_examples
from ranker.pairs import clear_pairs
from ranker.taste import FactorEffect, Trust, caption_factors, factor_effects, trust
from storage import adapters, audit, contests, jokes
from storage.models import AdapterVersion

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.config import Settings
    from bot.store import Store

log = logging.getLogger(__name__)
MIN_REPORT_PAIRS = 30
MIN_REPORT_CONTESTS = 3


@dataclass(frozen=True)
class TasteFindings:
    effects: list[FactorEffect]
    trust: Trust
    pairs: int
    contests: int


class CommunityAI:
    def __init__(
        self,
        ranker: AsyncRanker,
        llm: AsyncLLM | None,
        store: Store,
        adapter_dir: Path,
        clock: Clock,
    ) -> None:
        self.ranker = ranker
        self.llm = llm
        self.store = store
        self.adapter_dir = adapter_dir
        self.clock = clock
        self.base = ranker.adapter
        self._adapters: dict[int, Adapter] = {}
        self._rng = random.Random()

    @classmethod
    async def load(cls, settings: Settings, store: Store, clock: Clock) -> CommunityAI:
        """Load the encoder, the base adapter and the LLM off the event loop.

        Without a usable LLM the bot still ranks; only /joke and suggestions are off.
        """
        device = None if settings.device == "auto" else settings.device
        ranker = await AsyncRanker.create(encoder_path=settings.encoder, device=device)
        try:
            backend = await asyncio.to_thread(load_llm, settings.llm_url or settings.llm)
            llm = AsyncLLM(backend)
        except Exception:  # a missing or broken model file: jokes are off, ranking still works
            log.exception("the LLM could not load; /joke is off")
            llm = None
        return cls(ranker, llm, store, settings.adapter_dir, clock)

    async def adapter_for(self, guild_id: int) -> Adapter:
        """The guild's active adapter (cached), or the base adapter."""
        if guild_id not in self._adapters:
            active = await self.store.call(adapters.active_adapter, guild_id)
            adapter = self.base
            if active is not None:
                try:
                    adapter = await asyncio.to_thread(load_adapter, active.path)
                except (OSError, ValueError) as problem:
                    log.error(
                        "guild %s: adapter v%s unusable (%s); using the base adapter",
                        guild_id,
                        active.version,
                        problem,
                    )
            self._adapters[guild_id] = adapter
        return self._adapters[guild_id]

    async def rank(self, guild_id: int, description: str, captions: list[str]) -> AIRanking:
        return await self.ranker.rank(
            description, captions, adapter=await self.adapter_for(guild_id)
        )

    async def community_contests(self, guild_id: int) -> list[ContestVotes]:
        """The guild's closed contests with each caption's rating counts, oldest first."""
        history = await self.store.call(contests.closed_contest_votes, guild_id)
        return [
            ContestVotes(
                f"{c['day']}#{c['contest_id']}",
                tuple(CaptionVotes(*caption) for caption in c["captions"]),
                c["description"],
            )
            for c in history
        ]

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

    async def rollback(self, guild_id: int) -> AdapterVersion | None:
        """Go back to the previous adapter version (None: back on the base adapter)."""
        now_active = await self.store.call(adapters.rollback_adapter, guild_id)
        self._adapters.pop(guild_id, None)
        return now_active

    async def jokes(self, guild_id: int | None, scene: str) -> JokeRun:
        """Leap-of-thought candidates for ``scene``, filtered and ranked by the guild's adapter."""
        if self.llm is None:
            raise RuntimeError("no LLM is loaded")
        best = await self.store.call(jokes.best_captions, guild_id) if guild_id else []
        blocked = await self.store.call(jokes.blocked_terms, guild_id) if guild_id else []
        adapter = await self.adapter_for(guild_id) if guild_id else self.base

        async def score(description: str, captions: list[str]) -> list[float]:
            return list(await self.ranker.score(description, captions, adapter=adapter))

        return await generate_jokes(
            self.llm.generate,
            score,
            scene=scene,
            blocked=blocked,
            examples=pick_examples(best, self._rng),
        )

    async def taste(self, guild_id: int) -> TasteFindings | None:
        """What this community's votes reward and how far to trust the AI; None without enough votes."""
        data = [c for c in await self.community_contests(guild_id) if len(c.captions) >= 2]
        policy = RefitPolicy()
        pairs = clear_pairs(data, z=policy.z, prior_votes=policy.prior_votes)
        if len(pairs) < MIN_REPORT_PAIRS or len(data) < MIN_REPORT_CONTESTS:
            return None
        adapter = await self.adapter_for(guild_id)
        texts = [c.caption for contest in data for c in contest.captions]
        embeddings = await self.ranker.embed(texts)
        described = await self.ranker.embed([c.description or "." for c in data])
        offsets = np.cumsum([0] + [len(c.captions) for c in data])
        reference = np.vstack(
            [
                np.repeat(
                    described[i : i + 1]
                    if c.description
                    else embeddings[a:b].mean(axis=0, keepdims=True),
                    b - a,
                    0,
                )
                for i, (c, a, b) in enumerate(zip(data, offsets[:-1], offsets[1:], strict=True))
            ]
        )
        scores = np.concatenate(
            [await self.ranker.score(c.description, c.texts, adapter=adapter) for c in data]
        )
        crowd_best = [
            a
            + int(
                np.argmax(
                    [
                        (v.funny * 3 + v.somewhat_funny * 2 + v.unfunny + 6) / (v.votes + 3)
                        for v in c.captions
                    ]
                )
            )
            for c, a in zip(data, offsets[:-1], strict=True)
        ]

        learned_from = {*adapter.training_contests, *adapter.calibration_contests}
        unseen = np.array([str(c.contest) not in learned_from for c in data])

        def analyse() -> TasteFindings:
            rng = np.random.default_rng(0)
            names, factors = caption_factors(texts, embeddings, reference, n_topics=4, rng=rng)
            effects = factor_effects(names, factors, pairs, scores, rng)
            held_out = trust(scores, pairs, crowd_best, offsets, adapter.temperature, unseen)
            return TasteFindings(effects, held_out, len(pairs), len(data))

        return await asyncio.to_thread(analyse)

    async def aclose(self) -> None:
        await self.ranker.aclose()
        if self.llm is not None:
            await self.llm.aclose()


async def load_ai(settings: Settings, store: Store, clock: Clock) -> CommunityAI | None:
    """The AI, or None (results then show the crowd's ranking alone) when the models can't load."""
    try:
        return await CommunityAI.load(settings, store, clock)
    except Exception:  # the bot runs its contests without an AI rather than not at all
        log.exception("the AI ranker could not load; running without it")
        return None
