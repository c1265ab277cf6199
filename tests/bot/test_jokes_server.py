"""/joke and /caption suggest through a real model server: llama.cpp's own OpenAI-compatible
server (``llama-cpp-python[server]``, started by ``python -m ranker.llm_server``) on loopback
with the bundled GGUF, reached through ``PUNCHLINE_LLM_URL``'s backend. A stopped server and a
slow one (the only fake here, for fault injection) give the member a clear message, and the bot
keeps answering."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bot.ai import CommunityAI
from bot.cogs.jokes import MODEL_DOWN
from tests.bot.conftest import is_prompt, punchline, setup_contest

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LlamaServer:
    """``python -m ranker.llm_server`` on a loopback port, as an operator would run it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.process = subprocess.Popen(
            [
                sys.executable,
                *("-m", "ranker.llm_server", "--host", "127.0.0.1", "--port", str(self.port)),
            ],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"the server exited ({self.process.returncode})"
            try:
                with urllib.request.urlopen(f"{self.url}/v1/models", timeout=2):
                    return
            except OSError:
                time.sleep(0.5)
        raise TimeoutError("llama_cpp.server did not come up")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def llama_server() -> Iterator[LlamaServer]:
    server = LlamaServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def ranker():
    from ranker import AsyncRanker, Ranker

    facade = AsyncRanker(Ranker(device="cpu"))
    yield facade
    facade._encoder_worker.close()


async def start_ai(bot, ranker, url: str, tmp_path: Path, time_limit_s: float = 20.0):
    from ranker import AsyncLLM

    llm = await AsyncLLM.start(url, time_limit_s=time_limit_s)
    # more than the default budget (this machine is shared; the test is about the path, not the
    # speed), less than the 20 s the emulator waits for an answer
    return CommunityAI(ranker, llm, bot.store, tmp_path / "adapters", bot.clock, joke_budget_s=14)


async def test_joke_and_suggestion_come_from_the_real_server(
    emu, server, tmp_path, llama_server, ranker
):
    alice, bob = server.members["alice"], server.members["bob"]
    async with punchline(emu, tmp_path / "p.db") as bot:
        bot.ai = await start_ai(bot, ranker, llama_server.url, tmp_path)
        try:
            joke = await emu.slash(
                server.guild.id,
                server.channel.id,
                alice.id,
                "joke",
                topic="penguins at a job interview",
            )
            assert joke.content.startswith("🃏"), joke.content
            assert "about “penguins at a job interview”" in joke.content
            await setup_contest(emu, server, bot, submission_minutes=600, voting_minutes=600)
            await emu.wait_for_message(server.channel.id, is_prompt, include_existing=True)
            idea = await emu.slash(server.guild.id, server.channel.id, bob.id, "caption suggest")
            assert idea.ephemeral
            assert idea.content.startswith("💡"), idea.content
        finally:
            await bot.ai.llm.aclose()


async def test_a_stopped_server_gets_a_clear_message_and_the_bot_goes_on(
    emu, server, tmp_path, llama_server, ranker
):
    m = server.members
    async with punchline(emu, tmp_path / "p.db") as bot:
        bot.ai = await start_ai(bot, ranker, llama_server.url, tmp_path)
        try:
            llama_server.stop()
            down = await emu.slash(
                server.guild.id, server.channel.id, m["carol"].id, "joke", topic="cats"
            )
            assert down.content == MODEL_DOWN
            board = await emu.slash(server.guild.id, server.channel.id, m["dave"].id, "leaderboard")
            assert board.content or board.embeds  # the bot answers everything else
            await asyncio.to_thread(llama_server.start)
            back = await emu.slash(
                server.guild.id, server.channel.id, m["erin"].id, "joke", topic="cats in a bank"
            )
            assert back.content.startswith(("🃏", "I couldn't come up")), back.content
            assert back.content != MODEL_DOWN
        finally:
            await bot.ai.llm.aclose()


class SlowServer(BaseHTTPRequestHandler):
    """Accepts completion requests and answers after a minute: a model server that hangs."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        time.sleep(60)
        payload = json.dumps({"choices": [{"index": 0, "text": "too late"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


async def test_a_slow_server_is_cut_off_and_the_member_told(emu, server, tmp_path, ranker):
    slow = ThreadingHTTPServer(("127.0.0.1", 0), SlowServer)
    slow.daemon_threads = True
    threading.Thread(target=slow.serve_forever, daemon=True).start()
    m = server.members
    try:
        async with punchline(emu, tmp_path / "p.db") as bot:
            url = f"http://127.0.0.1:{slow.server_port}"
            bot.ai = await start_ai(bot, ranker, url, tmp_path, time_limit_s=2)
            try:
                started = time.monotonic()
                asking = asyncio.create_task(
                    emu.slash(
                        server.guild.id, server.channel.id, m["alice"].id, "joke", topic="owls"
                    )
                )
                board = await emu.slash(
                    server.guild.id, server.channel.id, m["bob"].id, "leaderboard"
                )
                assert board.content or board.embeds  # answered while the joke waits
                assert not asking.done()
                slow_reply = await asking
                assert slow_reply.content == MODEL_DOWN
                assert time.monotonic() - started < 15
                assert bot.ai.llm.process.restarts == 1
            finally:
                await bot.ai.llm.aclose()
    finally:
        slow.shutdown()
