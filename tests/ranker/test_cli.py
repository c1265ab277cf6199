"""``python -m ranker``: round trips on small CSV files and one-line errors on bad input."""

from __future__ import annotations

import csv
import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ranker import load_adapter
from ranker.cli import EXIT_BAD_INPUT, main

REPO = Path(__file__).resolve().parents[2]


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_score_round_trip(tmp_path, ranker):
    rows = [
        [1, "I said I wanted a corner office.", "A desk in the ocean.", "x"],
        [1, "Remote work has gone too far.", "A desk in the ocean.", "y"],
        [2, "Has anyone seen my stapler?", "", "z"],
        [1, "The commute is murder.", "A desk in the ocean.", "w"],
    ]
    source = write_csv(tmp_path / "in.csv", ["contest", "caption", "description", "note"], rows)
    assert main(["score", str(source), "--out", str(tmp_path / "out.csv")]) == 0
    with (tmp_path / "out.csv").open(encoding="utf-8") as stream:
        scored = list(csv.DictReader(stream))
    assert [r["caption"] for r in scored] == [r[1] for r in rows]
    assert [r["note"] for r in scored] == ["x", "y", "z", "w"]
    expected = ranker.score("A desk in the ocean.", [rows[0][1], rows[1][1], rows[3][1]])
    got = [float(scored[i]["score"]) for i in (0, 1, 3)]
    assert got == pytest.approx(expected.tolist(), abs=1e-5)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("contest,text\n1,hello\n", "missing column(s) caption"),
        ("", "empty file"),
        ("contest,caption\n", "no captions to score"),
        ('contest,caption\n1,"unterminated\n', "malformed CSV"),
        ("contest,caption\n1,hello,extra\n", "expected 2 fields"),
        ("contest,caption\n1,   \n", "empty caption"),
    ],
)
def test_score_rejects_bad_csv_with_one_line(tmp_path, capsys, content, message):
    source = tmp_path / "in.csv"
    source.write_text(content, encoding="utf-8")
    assert main(["score", str(source), "--out", str(tmp_path / "out.csv")]) == EXIT_BAD_INPUT
    error = capsys.readouterr().err.strip()
    assert error.startswith("error: ")
    assert message in error
    assert "\n" not in error
    assert not (tmp_path / "out.csv").exists()


def test_bad_vote_counts_and_missing_data_are_clear_errors(tmp_path, capsys):
    votes = write_csv(
        tmp_path / "votes.csv",
        ["contest", "caption", "funny", "somewhat_funny", "unfunny"],
        [[1, "a", 3, 2, "many"]],
    )
    assert main(["fit", str(votes), "--out", str(tmp_path / "a.npz")]) == EXIT_BAD_INPUT
    assert "unfunny is not a number" in capsys.readouterr().err
    assert main(["eval", str(tmp_path / "nowhere")]) == EXIT_BAD_INPUT
    assert "no such file or directory" in capsys.readouterr().err
    assert main(["eval", str(tmp_path)]) == EXIT_BAD_INPUT
    assert "no captions.csv.gz or captions.csv" in capsys.readouterr().err


def test_unusable_adapter_is_a_clear_error(tmp_path, capsys):
    source = write_csv(tmp_path / "in.csv", ["contest", "caption"], [[1, "hello"]])
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not an adapter")
    code = main(["score", str(source), "--out", str(tmp_path / "o.csv"), "--adapter", str(broken)])
    assert code == EXIT_BAD_INPUT
    assert "is not a ranker adapter" in capsys.readouterr().err


def test_fit_then_eval_uses_only_unseen_contests(tmp_path, capsys, make_community):
    contests = make_community(contests=10, captions_per_contest=16, voters=40, seed=4)
    data = tmp_path / "community"
    data.mkdir()
    rows = [
        [c.contest, v.caption, v.funny, v.somewhat_funny, v.unfunny]
        for c in contests
        for v in c.captions
    ]
    header = ["contest", "caption", "funny", "somewhat_funny", "unfunny"]
    with gzip.open(data / "captions.csv.gz", "wt", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)
    write_csv(data / "descriptions.csv", ["contest", "description"], [[3, "A kitchen."]])
    out = tmp_path / "fitted.npz"
    code = main(["fit", str(data), "--out", str(out), "--field", "all", "--kind", "mlp"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    adapter = load_adapter(out)
    assert report["version"] == adapter.version
    assert adapter.kind == "mlp"
    assert len(adapter.training_contests) == 8
    assert report["heldout_overall"] > 0.8  # the planted taste transfers to unseen contests
    assert main(["eval", str(data), "--adapter", str(out), "--field", "all"]) == 0
    evaluation = json.loads(capsys.readouterr().out)
    assert evaluation["contests_excluded_as_training"] == 8
    assert evaluation["contests_evaluated"] == 2
    assert evaluation["overall"] == pytest.approx(report["heldout_overall"])
    child = tmp_path / "child.npz"
    code = main(["fit", str(data), "--out", str(child), "--field", "all", "--init", str(out)])
    assert code == 0
    capsys.readouterr()
    assert load_adapter(child).metadata["parent_version"] == adapter.version


def test_eval_on_held_out_nyccc_contests(tmp_path, capsys, nyccc_dir):
    """The base adapter on two NYCCC contests it never saw, and one it did (excluded)."""
    adapter = load_adapter(REPO / "ranker" / "data" / "base_adapter.npz")
    keep = set(adapter.metrics["heldout_contest_ids"][:2]) | {adapter.training_contests[0]}
    with gzip.open(nyccc_dir / "captions.csv.gz", "rt", encoding="utf-8") as stream:
        reader = csv.DictReader(stream)
        rows = [row for row in reader if row["contest"] in keep]
    data = tmp_path / "subset"
    data.mkdir()
    write_csv(data / "captions.csv", list(rows[0]), [list(r.values()) for r in rows])
    assert main(["eval", str(data)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["contests_evaluated"] == 2
    assert report["contests_excluded_as_training"] == 1
    assert report["pairs"] > 1000
    assert 0.5 < report["overall"] < 1.0
    # The stored temperature holds on these contests: what it states is what happens.
    calibration = report["calibration"]
    assert calibration["ece"] < 0.05
    for row in calibration["reliability"]:
        if row["pairs"] >= 500:
            assert abs(row["stated"] - row["right"]) < 0.1, row


def test_module_entry_point_exits_2_without_traceback(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("caption\nhello\n", encoding="utf-8")
    process = subprocess.run(
        [sys.executable, "-m", "ranker", "score", str(source), "--out", str(tmp_path / "o.csv")],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={"HF_HUB_OFFLINE": "1", "PATH": ""},
        timeout=120,
        check=False,
    )
    assert process.returncode == EXIT_BAD_INPUT
    assert "Traceback" not in process.stderr
    assert process.stderr.strip() == f"error: {source}: missing column(s) contest"


def test_the_fine_tune_command_prints_its_help(capsys):
    from ranker.finetune import main as finetune_main

    with pytest.raises(SystemExit) as stopped:
        finetune_main(["--help"])
    assert stopped.value.code == 0
    assert "--without-validation" in capsys.readouterr().out
