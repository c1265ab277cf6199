"""/mod export of a guild whose CSV is over Discord's 10 MiB upload limit: the moderator gets
it zipped (the emulator refuses a bigger file with 413, as Discord does), every row inside."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import timedelta

from storage import contests, entries
from storage.db import transaction
from storage.export import MAX_FILE_BYTES
from tests.bot.conftest import punchline

ROWS = 30_000
CAPTION = "A caption that goes on for a while, the way long jokes do, " * 5  # 300 characters


async def test_an_export_over_the_upload_limit_arrives_zipped_and_whole(
    emu, server, db_path, db, now
):
    contest, _ = contests.open_contest(
        db,
        guild_id=server.guild.id,
        day="2026-03-01",
        prompt_id=None,
        season_id=None,
        opens_at=now,
        voting_at=now + timedelta(hours=1),
        closes_at=now + timedelta(hours=2),
        channel_id=server.channel.id,
        now=now,
    )
    with transaction(db):
        for i in range(ROWS):
            text = f"{i}. {CAPTION}"[:300]
            entries.add_entry(db, contest.id, 1000 + i, text, text.casefold(), now)

    async with punchline(emu, db_path):
        export = await emu.slash(server.guild.id, server.channel.id, server.mod.id, "mod export")

    assert "too big for one plain file" in export.content
    assert "zipped" in export.content
    [sent] = export.files
    assert sent.filename == f"punchline-{server.guild.id}.zip"
    assert len(sent.data) <= MAX_FILE_BYTES
    with zipfile.ZipFile(io.BytesIO(sent.data)) as archive:
        text = archive.read(f"punchline-{server.guild.id}.csv").decode()
    assert len(text.encode()) > MAX_FILE_BYTES  # as one plain file, Discord would refuse it
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == ROWS
    assert rows[-1]["text"] == f"{ROWS - 1}. {CAPTION}"[:300]
