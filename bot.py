"""Punchline, the caption-contest bot.

python bot.py            run the bot (needs DISCORD_TOKEN or punchline.toml)
python bot.py --demo     run one whole contest offline, against a local Discord emulator
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.config import ConfigError, Settings, load_settings
from storage.db import DatabaseError

log = logging.getLogger("punchline")


async def run_bot(settings: Settings) -> None:
    from bot.app import PunchlineBot, use_discord_api
    from bot.clock import Clock
    from bot.store import open_store

    if settings.discord_api:
        await use_discord_api(settings.discord_api, settings.require_token())
    store = await open_store(settings.database, settings.backup_dir, datetime.now(UTC))
    clock = Clock()
    ai = None
    if settings.ai == "on":
        from bot.ai import load_ai

        ai = await load_ai(settings, store, clock)
    bot = PunchlineBot(settings, store=store, ai=ai, clock=clock)
    try:
        async with bot:
            await bot.start(settings.require_token())
    finally:
        if ai is not None:
            await ai.aclose()
        await store.close()


def main(argv: list[str] | None = None) -> int:
    # The models ship in Python packages: never reach for a model hub at run time.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    parser = argparse.ArgumentParser(description="Punchline, the caption-contest bot for Discord.")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="run one whole contest offline against a local Discord emulator",
    )
    parser.add_argument(
        "--demo-dir",
        type=Path,
        default=Path("."),
        help="where the demo leaves its database and results card (default: here)",
    )
    args = parser.parse_args(argv)

    if args.demo:
        from demo import quiet_logging, run_demo

        quiet_logging()
        asyncio.run(run_demo(args.demo_dir))
        return 0
    try:
        settings = load_settings()
        settings.require_token()
    except ConfigError as problem:
        print(f"punchline: {problem}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        asyncio.run(run_bot(settings))
    except (ConfigError, DatabaseError) as problem:
        print(f"punchline: {problem}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
