"""Models in a child process: a real call wedged past its time limit kills and restarts the
process, and the next call succeeds; a crash and a failed load are clear errors; the event loop
never waits on the model."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest

from ranker import AsyncLLM, ModelCrashed, ModelTimeout
from ranker.llm import Completion, LLMError
from ranker.process import ModelProcess

PROMPT = 'Cartoon captions:\n1. "I told you the soup was haunted."\n2. "'
WEDGE = "word " * 7000  # a real prompt whose evaluation takes tens of seconds on 2 cores


@pytest.fixture(scope="module")
def llm():
    """The bundled Gemma in its own process, with room for the wedging prompt."""
    started = asyncio.run(AsyncLLM.start(None, device="cpu", n_ctx=8192, seed=2))
    yield started
    asyncio.run(started.aclose())


async def test_completions_come_from_the_child_with_log_probabilities(llm):
    completions = await llm.complete(PROMPT, max_tokens=16, temperature=0.8, n=2, stop=['"'])
    assert len(completions) == 2
    assert all(isinstance(c, Completion) for c in completions)
    assert all(c.mean_logprob is not None and c.mean_logprob < 0 for c in completions)
    assert llm.process._process.pid != os.getpid()
    assert llm.name.endswith(".gguf")


async def test_a_wedged_real_call_is_killed_and_the_next_call_succeeds(llm):
    first_pid = llm.process._process.pid
    restarts = llm.process.restarts
    ticks = 0

    async def heartbeat() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.05)
            ticks += 1

    beating = asyncio.create_task(heartbeat())
    started = time.monotonic()
    with pytest.raises(ModelTimeout):
        await llm.process.call("complete", WEDGE, 1, 0.8, 1, [], time_limit_s=2)
    waited = time.monotonic() - started
    assert 2 <= waited < 5, "the call fails at its limit, not when the model would have finished"
    assert ticks >= 30, "the event loop kept running while the model was busy"
    again = await llm.complete(PROMPT, max_tokens=12, temperature=0.8, n=1, stop=['"'])
    beating.cancel()
    assert again[0].text is not None
    assert llm.process.restarts == restarts + 1
    assert llm.process._process.pid != first_pid
    with pytest.raises(ProcessLookupError):
        os.kill(first_pid, 0)  # the wedged child is gone, not left running


async def test_a_caller_that_gives_up_also_frees_the_model(llm):
    """``asyncio.wait_for`` around a call (as the bot's AI timeout does) cancels it: the busy
    child is killed rather than left finishing work nobody will read."""
    pid = llm.process._process.pid
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(llm.complete(WEDGE, 1), 1)
    assert (await llm.complete(PROMPT, max_tokens=8, stop=['"']))[0].text is not None
    assert llm.process._process.pid != pid


async def test_a_crashed_child_fails_its_call_and_is_replaced(llm):
    victim = llm.process._process.pid
    task = asyncio.create_task(llm.process.call("complete", WEDGE, 1, 0.8, 1, [], time_limit_s=60))
    await asyncio.sleep(0.5)
    os.kill(victim, signal.SIGKILL)  # what a segfault in native code looks like from outside
    with pytest.raises(ModelCrashed):
        await task
    assert (await llm.complete(PROMPT, max_tokens=8, stop=['"']))[0].text is not None


async def test_a_model_that_cannot_load_is_a_clear_error(tmp_path):
    process = ModelProcess(_load_missing, str(tmp_path / "nope.gguf"), name="broken")
    with pytest.raises(LLMError, match="not found"):
        await process.start()
    await process.aclose()


def _load_missing(path: str):
    from ranker.llm import LlamaCppBackend

    return LlamaCppBackend(path)
