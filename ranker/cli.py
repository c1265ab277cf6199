"""``python -m ranker``: score CSV files, fit adapters, evaluate them, tell jokes.

    python -m ranker score IN.csv --out OUT.csv [--adapter PATH]
    python -m ranker fit DATA_DIR --out ADAPTER [--init ADAPTER]
    python -m ranker eval DATA_DIR [--adapter PATH]
    python -m ranker joke [TOPIC] [--description TEXT] [-n N] [--adapter PATH] [--llm GGUF|URL]

Bad input (malformed CSV, empty files, an unusable adapter) ends with a one-line message on
stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

EXIT_BAD_INPUT = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ranker", description=__doc__.splitlines()[0])
    parser.add_argument("--encoder", help="sentence-transformers folder (default: bundled MiniLM)")
    parser.add_argument("--device", help="torch device (default: cuda if available, else cpu)")
    commands = parser.add_subparsers(dest="command", required=True)

    score = commands.add_parser("score", help="append a score column to a caption CSV")
    score.add_argument("input", help="CSV with contest, caption and optional description")
    score.add_argument("--out", required=True, help="where to write the scored CSV")
    score.add_argument("--adapter", help="adapter file (default: bundled base adapter)")

    fit = commands.add_parser("fit", help="fit an adapter on a vote dataset (NYCCC layout)")
    fit.add_argument("data", help="data directory (captions.csv[.gz], descriptions.csv) or CSV")
    fit.add_argument("--out", required=True, help="where to write the adapter (.npz)")
    fit.add_argument("--init", help="start from this adapter instead of from scratch")
    fit.add_argument("--kind", choices=("linear", "mlp"), default="linear")
    fit.add_argument("--heldout-fraction", type=float, default=0.2)
    fit.add_argument("--pairs-per-contest", type=int, default=3000)
    fit.add_argument("--seed", type=int, default=0)
    _field_option(fit)

    evaluate = commands.add_parser("eval", help="pairwise accuracy on contests not trained on")
    evaluate.add_argument(
        "data", help="data directory (captions.csv[.gz], descriptions.csv) or CSV"
    )
    evaluate.add_argument("--adapter", help="adapter file (default: bundled base adapter)")
    _field_option(evaluate)

    joke = commands.add_parser("joke", help="jokes from the local LLM, gated and ranked")
    joke.add_argument("topic", nargs="?", help="what the joke is about")
    joke.add_argument("--description", help="a cartoon's description, for caption suggestions")
    joke.add_argument("-n", type=int, default=5, help="how many of the best to print")
    joke.add_argument("--adapter", help="adapter file (default: bundled base adapter)")
    joke.add_argument("--llm", help="GGUF file or OpenAI-compatible server URL (default: bundled)")
    joke.add_argument("--budget", type=float, default=20.0, help="seconds to spend generating")
    return parser


def _field_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--field",
        choices=("random-part", "all"),
        default="random-part",
        help=(
            "which captions form a contest's field for the crowding features: 'random-part' "
            "(NYCCC: only the uniform random sample, not the kept top 60) or 'all'"
        ),
    )


def _score(args: argparse.Namespace) -> None:
    from ranker.core import Ranker
    from ranker.csvio import read_captions_to_score, write_scored_csv

    header, rows = read_captions_to_score(args.input)
    ranker = Ranker(args.adapter, encoder_path=args.encoder, device=args.device)
    groups: dict[tuple[str, str], list[int]] = {}
    for index, row in enumerate(rows):
        key = (row["contest"].strip(), (row.get("description") or "").strip())
        groups.setdefault(key, []).append(index)
    requests = [
        (desc, [rows[i]["caption"] for i in members]) for (_, desc), members in groups.items()
    ]
    scores = [0.0] * len(rows)
    for members, contest_scores in zip(
        groups.values(), ranker.score_many(requests, progress=True), strict=True
    ):
        for index, score in zip(members, contest_scores, strict=True):
            scores[index] = float(score)
    write_scored_csv(args.out, header, rows, scores)
    print(f"scored {len(rows)} captions in {len(groups)} contest(s) -> {args.out}", file=sys.stderr)


def _fit(args: argparse.Namespace) -> None:
    from ranker.adapter import load_adapter, save_adapter
    from ranker.csvio import read_dataset
    from ranker.encoders import SentenceEncoder
    from ranker.fitting import FitSettings, fit_dataset
    from ranker.training import TrainingConfig

    contests = read_dataset(args.data)
    init = load_adapter(args.init) if args.init else None
    encoder = SentenceEncoder(args.encoder, args.device)
    settings = FitSettings(
        heldout_fraction=args.heldout_fraction,
        pairs_per_contest=args.pairs_per_contest,
        field_reference=args.field,
        seed=args.seed,
        training=replace(TrainingConfig(), kind=args.kind, seed=args.seed),
    )
    adapter = fit_dataset(encoder, contests, settings, init, source=Path(args.data).name)
    save_adapter(adapter, args.out)
    metrics = {k: v for k, v in adapter.metrics.items() if k != "heldout_contest_ids"}
    report = {"adapter": str(args.out), "version": adapter.version, **metrics}
    print(json.dumps(report, indent=2))


def _eval(args: argparse.Namespace) -> None:
    from ranker.adapter import base_adapter_path, load_adapter
    from ranker.csvio import read_dataset
    from ranker.encoders import SentenceEncoder
    from ranker.fitting import evaluate_dataset

    contests = read_dataset(args.data)
    adapter = load_adapter(args.adapter or base_adapter_path())
    encoder = SentenceEncoder(args.encoder, args.device)
    report = evaluate_dataset(encoder, contests, adapter, field_reference=args.field)
    print(json.dumps(report, indent=2))


def _joke(args: argparse.Namespace) -> None:
    import asyncio

    from ranker.core import Ranker
    from ranker.joke_prompts import pick_examples, sanitize_topic
    from ranker.jokes import JokeSettings, generate_jokes
    from ranker.llm import load_llm

    scene = sanitize_topic(args.description or args.topic) or "A cartoon."
    ranker = Ranker(args.adapter, encoder_path=args.encoder, device=args.device)
    backend = load_llm(args.llm, device=args.device)

    class Models:  # the joke pipeline's three calls, run in this process
        async def complete(self, *arguments: Any) -> list[Any]:
            return backend.complete(*arguments)

        async def embed(self, texts: Sequence[str]) -> Any:
            return ranker.embed(list(texts))

        async def score(self, description: str, captions: Sequence[str]) -> list[float]:
            return list(ranker.score(description, captions))

    run = asyncio.run(
        generate_jokes(
            Models(),
            scene=scene,
            examples=pick_examples([]),
            settings=JokeSettings(budget_s=args.budget),
        )
    )
    for joke in run.jokes[: args.n]:
        print(f"{joke.score:+.3f}\t{joke.text}\t(about the topic: {joke.relevance:.2f})")
    dropped = ", ".join(f"{n} {why}" for why, n in run.dropped.items()) or "none"
    print(
        f"# {run.generated} candidates in {run.seconds:.1f}s; dropped: {dropped}", file=sys.stderr
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    from ranker.adapter import AdapterError
    from ranker.votes import RankerInputError

    args = _parser().parse_args(argv)
    handlers = {"score": _score, "fit": _fit, "eval": _eval, "joke": _joke}
    try:
        handlers[args.command](args)
    except (RankerInputError, AdapterError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return 0
