"""An export Discord would refuse as one file (over 10 MiB) is zipped, or split into zips."""

from __future__ import annotations

import csv
import io
import random
import string
import zipfile

from storage.export import (
    EXPORT_COLUMNS,
    MAX_MESSAGE_BYTES,
    MAX_MESSAGE_FILES,
    csv_text,
    export_files,
    message_batches,
)


def rows(count: int, *, noisy: bool, seed: int = 5) -> list[dict]:
    """Export rows; ``noisy`` captions are random letters, which hardly compress."""
    rng = random.Random(seed)
    made = []
    for i in range(count):
        text = (
            "".join(rng.choices(string.ascii_letters + ' ,\n"', k=300))
            if noisy
            else f"Caption {i}: the same joke again"
        )
        made.append(dict.fromkeys(EXPORT_COLUMNS, 1) | {"entry_id": i, "text": text})
    return made


def read_back(files: list[tuple[str, bytes]]) -> list[dict]:
    """Every row of the files, in order, as the CSV reader gives them."""
    found = []
    for name, data in files:
        if name.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                [inner] = archive.namelist()
                assert inner == name.removesuffix(".zip") + ".csv"
                data = archive.read(inner)
        found.extend(csv.DictReader(io.StringIO(data.decode())))
    return found


def test_an_export_that_fits_stays_a_plain_csv():
    made = rows(10, noisy=False)
    assert export_files(made, "punchline-1") == [("punchline-1.csv", csv_text(made).encode())]


def test_a_compressible_export_over_the_limit_is_one_zip():
    made = rows(400, noisy=False)
    limit = len(csv_text(made)) // 2
    files = export_files(made, "punchline-1", limit=limit)
    assert [name for name, _ in files] == ["punchline-1.zip"]
    assert len(files[0][1]) <= limit
    assert read_back(files) == read_back([("x.csv", csv_text(made).encode())])


def test_an_export_too_big_even_zipped_is_split_in_order_each_part_within_the_limit():
    made = rows(600, noisy=True)
    limit = 40_000  # the zipped whole is ~150 kB
    files = export_files(made, "punchline-1", limit=limit)
    assert len(files) >= 4
    assert [name for name, _ in files] == [
        f"punchline-1-part-{n}-of-{len(files)}.zip" for n in range(1, len(files) + 1)
    ]
    assert all(len(data) <= limit for _, data in files)
    assert [r["entry_id"] for r in read_back(files)] == [str(i) for i in range(600)]
    assert read_back(files) == read_back([("x.csv", csv_text(made).encode())])


def test_files_are_grouped_into_messages_discord_accepts():
    nine_mib = b"x" * (9 * 2**20)
    batches = message_batches([(f"part-{n}.zip", nine_mib) for n in range(5)])
    assert [len(batch) for batch in batches] == [2, 2, 1]  # 3 × 9 MiB would pass 25 MiB
    small = message_batches([(f"part-{n}.zip", b"x") for n in range(23)])
    assert [len(batch) for batch in small] == [10, 10, 3]
    for batch in batches + small:
        assert len(batch) <= MAX_MESSAGE_FILES
        assert sum(len(data) for _, data in batch) <= MAX_MESSAGE_BYTES
