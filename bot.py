"""Punchline, the caption-contest bot.

python bot.py            run the bot (needs DISCORD_TOKEN or punchline.toml)
python bot.py --demo     run one whole contest offline, against a local Discord emulator
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.config import ConfigError, Settings, load_settings
from storage.db import DatabaseError

log = logging.getLogger("punchline")


async def run_bot(settings: Settings) -> None:
    from bot.app import PunchlineBot
    from bot.store import open_store

    store = await open_store(settings.database, settings.backup_dir, datetime.now(UTC))
    bot = PunchlineBot(settings, store=store)
    try:
        async with bot:
            await bot.start(settings.require_token())
    finally:
        await store.close()


def main(argv: list[str] | None = None) -> int:
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
        from bot.demo import quiet_logging, run_demo

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
    except DatabaseError as problem:
        print(f"punchline: {problem}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
