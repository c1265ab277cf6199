"""The real ``python bot.py`` in its own process, pointed at an in-process Discord emulator.

Only a process of its own can be killed with SIGKILL mid-write, the way a crash, the OOM killer
or a pulled plug stops it: no ``finally`` block, no clean shutdown, no flush beyond what SQLite
already made durable.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

from discord_emulator import DiscordEmulator
from testkit.running import restart_later

BOT_SCRIPT = Path(__file__).resolve().parents[2] / "bot.py"


class BotProcess:
    """Starts ``bot.py`` with ``PUNCHLINE_DISCORD_API`` set to the emulator; kills it with -9.

    The database, backups and the bot's log live in ``workdir``; ``log_tail()`` shows the end of
    the log (every start appends to it) when a test fails. Several processes may share one
    ``database`` (in a folder of its own) with ``env`` settings of their own, e.g. their shards.
    """

    def __init__(
        self,
        emu: DiscordEmulator,
        workdir: Path,
        *,
        database: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.emu = emu
        self.workdir = workdir
        self.database = database or workdir / "punchline.db"
        self.log_path = workdir / "bot.log"
        self.env = {
            **os.environ,
            "DISCORD_TOKEN": emu.token,
            "PUNCHLINE_DISCORD_API": emu.base_url,
            "PUNCHLINE_DB": str(self.database),
            "PUNCHLINE_BACKUP_DIR": str(workdir / "backups"),
            "PUNCHLINE_ADAPTER_DIR": str(workdir / "adapters"),
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "PUNCHLINE_AI": "off",  # durability is about SQLite and Discord; skip loading the models
            **(env or {}),
        }
        self.process: asyncio.subprocess.Process | None = None
        self.start_seconds: list[float] = []  # from spawning to a fresh gateway session, each start

    @property
    def pid(self) -> int:
        assert self.process is not None, "the bot is not running"
        return self.process.pid

    async def start(self) -> None:
        """Start ``bot.py`` and wait until it has a fresh gateway session (READY)."""
        ready_so_far = self.emu.gateway.history.count("READY")
        restart_later(self.emu)
        spawned = time.perf_counter()
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                str(BOT_SCRIPT),
                cwd=self.workdir,
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        waiting = asyncio.create_task(self.emu.wait_for_gateway("READY", count=ready_so_far + 1))
        exited = asyncio.create_task(self.process.wait())
        done, _ = await asyncio.wait({waiting, exited}, return_when=asyncio.FIRST_COMPLETED)
        if exited in done:
            waiting.cancel()
            raise RuntimeError(f"bot.py exited with {exited.result()}:\n{self.log_tail()}")
        exited.cancel()
        waiting.result()
        self.start_seconds.append(time.perf_counter() - spawned)

    async def kill(self) -> None:
        """SIGKILL: the process stops between two instructions, wherever it was (a no-op when
        it is not running)."""
        if self.process is None:
            return
        if self.process.returncode is None:
            os.kill(self.pid, signal.SIGKILL)
        await self.exited()

    async def exited(self) -> None:
        """Wait until the process has ended (killed by the test or by something else)."""
        assert self.process is not None, "the bot is not running"
        await self.process.wait()
        self.process = None

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
