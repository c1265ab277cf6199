"""A model call wedged inside the LLM's worker process, with the bot running: the bot keeps
answering, the wedged call is killed at its time limit (8 s here, 20 s by default), and the next
/joke is served by the restarted process. (docs/RELIABILITY.md row 5a.)"""

from __future__ import annotations

import asyncio

import pytest

from bot.ai import CommunityAI
from bot.cogs.jokes import MODEL_DOWN
from ranker import ModelTimeout
from testkit import build_server, punchline

WEDGE = "word " * 15000  # a real prompt whose evaluation takes about a minute on 2 cores


@pytest.fixture(scope="module")
def models():
    from ranker import AsyncLLM, AsyncRanker, Ranker

    ranker = AsyncRanker(Ranker(device="cpu"))
    llm = asyncio.run(AsyncLLM.start(None, device="cpu", n_ctx=16384, time_limit_s=8, seed=5))
    yield ranker, llm
    ranker._encoder_worker.close()
    asyncio.run(llm.aclose())


async def test_a_wedged_model_is_killed_and_the_next_joke_is_served(emu, tmp_path, models):
    ranker, llm = models
    crowd = build_server(emu, "Joke Club", ("alice", "bob"))
    alice, bob = crowd.members["alice"], crowd.members["bob"]
    async with punchline(emu, tmp_path / "p.db") as bot:
        bot.ai = CommunityAI(
            ranker, llm, bot.store, tmp_path / "adapters", bot.clock, joke_budget_s=14
        )
        wedged = asyncio.create_task(llm.process.call("complete", WEDGE, 1, 0.8, 1, []))
        await asyncio.sleep(0.5)  # the child is now busy evaluating the long prompt
        board = await emu.slash(crowd.guild.id, crowd.channel.id, bob.id, "leaderboard")
        assert board.content or board.embeds, "the bot answers while the model is wedged"
        assert not wedged.done()
        with pytest.raises(ModelTimeout):
            await wedged
        served = await emu.slash(
            crowd.guild.id, crowd.channel.id, alice.id, "joke", topic="owls at a bank"
        )
        assert served.content != MODEL_DOWN
        assert served.content.startswith(("🃏", "I couldn't come up")), served.content
        assert llm.process.restarts == 1
