"""How long an erasure holds the database, and how long scrubbing the backups takes.

    .venv/bin/python -m benchmarks.bench_erasure [--contests 365] [--prompts 60] [--backups 7]

Builds a year of one busy community: ``--contests`` closed contests of 25 entries, each rated by
40 members, and ``--prompts`` pictures of incompressible noise (about 190 KB each, as uploads
are). One member with an entry in every contest erases. Timed: the erasure's transaction, the
file's rewrite (``VACUUM`` + ``wal_checkpoint(TRUNCATE)``, which holds the bot's one database
thread), and applying the erasure to ``--backups`` nightly backups (in a worker thread; the
bot keeps running). The raw ``VACUUM`` of the same file before the erasure is the yardstick.
"""

from __future__ import annotations

import argparse
import io
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image

from benchmarks.machine import describe_machine
from storage import contests, open_database, prompts, seasons
from storage.backup import backup_database
from storage.db import transaction
from storage.models import Placement
from storage.privacy import erase_from_backups, erase_member, purge_deleted_content

GUILD, MEMBER = 1, 424242
START = datetime(2025, 1, 1, tzinfo=UTC)


def noise_png(rng: random.Random) -> bytes:
    out = io.BytesIO()
    Image.frombytes("RGB", (256, 256), rng.randbytes(256 * 256 * 3)).save(out, "PNG")
    return out.getvalue()


def build(path: Path, contest_count: int, prompt_count: int, rng: random.Random) -> None:
    db = open_database(path)
    for _ in range(prompt_count):
        prompts.add_prompt(db, GUILD, noise_png(rng), "png", "noise", None, START)
    for day in range(contest_count):
        at = START + timedelta(days=day)
        contest, _ = contests.open_contest(
            db,
            guild_id=GUILD,
            day=at.date().isoformat(),
            prompt_id=None,
            season_id=None,
            opens_at=at,
            voting_at=at,
            closes_at=at,
            channel_id=10,
            now=at,
        )
        with transaction(db):
            contests.advance_phase(db, contest.id, "submissions", "closed")
            placed = []
            for n in range(25):
                author = MEMBER if n == 0 else 1000 + rng.randrange(200)
                text = f"caption {day}-{n} " + "".join(rng.choices("abcdefgh ", k=80))
                entry_id = db.execute(
                    "INSERT INTO entries (contest_id, author_id, text, normalized, number,"
                    " created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'x', 'x')",
                    [contest.id, author, text, text, n + 1],
                ).lastrowid
                for voter in range(40):
                    db.execute(
                        "INSERT INTO votes (entry_id, voter_id, rating, source, created_at,"
                        " updated_at) VALUES (?, ?, ?, 'emoji', 'x', 'x')",
                        [entry_id, MEMBER if voter == 0 else 5000 + voter, rng.randint(1, 3)],
                    )
                placed.append(Placement(contest.id, entry_id, author, n + 1, 25, 2, 1, 40, 1))
            seasons.save_placements(db, contest.id, placed)
    db.close()


def timed(action) -> tuple[float, object]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contests", type=int, default=365)
    parser.add_argument("--prompts", type=int, default=60)
    parser.add_argument("--backups", type=int, default=7)
    args = parser.parse_args()
    print(describe_machine())
    with tempfile.TemporaryDirectory() as folder:
        path, backups = Path(folder) / "punchline.db", Path(folder) / "backups"
        build(path, args.contests, args.prompts, random.Random(1))
        backups.mkdir()
        for night in range(args.backups):
            backup_database(path, backups / f"punchline-2026010{night}-033000.db")
        db = open_database(path)
        size_mb = path.stat().st_size / 2**20
        raw_vacuum, _ = timed(lambda: db.execute("VACUUM"))
        erase_s, erasure = timed(lambda: erase_member(db, GUILD, MEMBER))
        purge_s, _ = timed(lambda: purge_deleted_content(db))
        db.close()
        scrub_s, (scrubbed, failed) = timed(lambda: erase_from_backups(backups, GUILD, MEMBER))
        print(
            f"database: {size_mb:.1f} MiB ({args.contests} contests × 25 entries × 40 ratings,"
            f" {args.prompts} pictures)\n"
            f"erasure transaction: {erase_s * 1000:.0f} ms"
            f" ({erasure.counts['captions_anonymised']} captions, {erasure.counts['votes']} ratings)\n"
            f"file rewrite (VACUUM + checkpoint): {purge_s:.2f} s"
            f" · raw VACUUM of the same file before: {raw_vacuum:.2f} s"
            f" (ratio {purge_s / raw_vacuum:.2f})\n"
            f"{len(scrubbed)} backups scrubbed in {scrub_s:.1f} s"
            f" ({scrub_s / max(len(scrubbed), 1):.2f} s each), {len(failed)} failed"
        )


if __name__ == "__main__":
    main()
