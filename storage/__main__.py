"""``python -m storage``: back up the database or export a guild's contests.

python -m storage backup PATH [--db punchline.db]
python -m storage export --guild ID --format csv|json [--season ID] [--db punchline.db] [--out FILE]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from storage.backup import backup_database
from storage.db import DEFAULT_PATH, DatabaseError
from storage.export import export_guild
from storage.opening import open_database


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m storage", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--db",
        type=Path,
        default=Path(os.environ.get("PUNCHLINE_DB", DEFAULT_PATH)),
        help="the database file (default: $PUNCHLINE_DB or ./punchline.db)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    backup = commands.add_parser("backup", help="copy the database safely, even while the bot runs")
    backup.add_argument("path", type=Path)
    export = commands.add_parser("export", help="a guild's contests, entries and votes")
    export.add_argument("--guild", type=int, required=True)
    export.add_argument("--format", choices=["csv", "json"], default="csv")
    export.add_argument("--season", type=int, help="only this season's contests")
    export.add_argument("--out", type=Path, help="write here instead of standard output")
    args = parser.parse_args(argv)

    if not args.db.exists():
        print(f"error: no database at {args.db} (set --db or PUNCHLINE_DB)", file=sys.stderr)
        return 2
    try:
        if args.command == "backup":
            print(f"backed up {args.db} to {backup_database(args.db, args.path)}")
            return 0
        text = export_guild(open_database(args.db), args.guild, args.format, season_id=args.season)
    except DatabaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
