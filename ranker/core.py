"""``Ranker``: the synchronous core the bot and the CLI use — features, scores, ranking, refit.

It is not thread-safe by design; ``AsyncRanker`` gives it one worker thread of its own.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from ranker.adapter import Adapter, AdapterError, base_adapter_path, load_adapter
from ranker.calibration import sigmoid
from ranker.encoders import DEFAULT_ENCODER_NAME, SentenceEncoder
from ranker.features import FeatureSpec, contest_features
from ranker.guard import strip_injection
from ranker.refit import RefitPolicy, RefitResult, refit_adapter
from ranker.votes import CaptionVotes, ContestVotes, RankerInputError

FieldReference = Callable[[ContestVotes], np.ndarray | None]
ScoreRequest = tuple[str | None, Sequence[str]]
PROGRESS_MIN_CAPTIONS = 2000


@dataclass(frozen=True)
class AIRanking:
    """The model's ordering of one contest.

    ``scores`` are in the order the captions were given; ``order`` lists caption indices best
    first. ``confidence`` is the probability that the crowd, where it has a clear preference,
    prefers the top pick to the runner-up; ``field_confidence`` the mean probability that it beats
    any other caption. Both are calibrated when ``calibrated`` (see ``ranker.calibration``).
    """

    captions: tuple[str, ...]
    scores: tuple[float, ...]
    order: tuple[int, ...]
    confidence: float
    field_confidence: float
    adapter_version: str = ""
    calibrated: bool = False  # whether the confidences come from a held-out temperature

    @property
    def top(self) -> str:
        """The model's pick."""
        return self.captions[self.order[0]]


def whole_field(contest: ContestVotes) -> None:
    """Every caption of the contest is part of its field (what a live contest has)."""
    return None


def featurize_contests(
    encoder: SentenceEncoder,
    contests: Sequence[ContestVotes],
    field_reference: FieldReference = whole_field,
    progress: bool = False,
) -> np.ndarray:
    """Feature rows of every caption of ``contests``, concatenated in order (one encoder batch)."""
    texts = [text for contest in contests for text in contest.texts]
    descriptions = sorted({c.description for c in contests if c.description})
    show = progress and len(texts) >= PROGRESS_MIN_CAPTIONS
    embeddings = encoder.encode(texts, progress=show)
    described = dict(zip(descriptions, encoder.encode(descriptions), strict=True))
    blocks = []
    start = 0
    for contest in contests:
        end = start + len(contest.captions)
        blocks.append(
            contest_features(
                embeddings[start:end],
                contest.texts,
                described.get(contest.description),
                field_reference(contest),
            )
        )
        start = end
    if not blocks:
        return np.zeros((0, FeatureSpec(encoder.dimension).dim), dtype=np.float32)
    return np.vstack(blocks)


class Ranker:
    """Scores captions with an encoder and an adapter; refits adapters to a community's votes.

    ``adapter`` is an ``Adapter``, a path to one, or ``None`` for the bundled NYCCC base adapter.
    ``encoder`` defaults to the bundled all-MiniLM-L6-v2 on ``device`` (auto: cuda if available).
    """

    def __init__(
        self,
        adapter: Adapter | str | os.PathLike[str] | None = None,
        encoder: SentenceEncoder | None = None,
        encoder_path: str | os.PathLike[str] | None = None,
        device: str | None = None,
    ) -> None:
        self.encoder = encoder or SentenceEncoder(encoder_path, device)
        self.spec = FeatureSpec(self.encoder.dimension)
        # The base adapter was fitted for the bundled encoder; with a user's own encoder of the
        # same dimension it is still the starting point (community refits then record that
        # encoder), so only an adapter chosen explicitly must match the encoder by name.
        bundled = self.encoder.name.startswith(DEFAULT_ENCODER_NAME)
        self._adapter: Adapter | None = None
        self._adapter = self._checked(
            adapter if adapter is not None else base_adapter_path(),
            check_encoder=adapter is not None or bundled,
        )

    @property
    def adapter(self) -> Adapter:
        """The adapter scores come from."""
        assert self._adapter is not None
        return self._adapter

    @adapter.setter
    def adapter(self, adapter: Adapter | str | os.PathLike[str]) -> None:
        self._adapter = self._checked(adapter)

    def _checked(
        self, adapter: Adapter | str | os.PathLike[str], check_encoder: bool = True
    ) -> Adapter:
        loaded = adapter if isinstance(adapter, Adapter) else load_adapter(adapter)
        if loaded.spec != self.spec:
            raise AdapterError(
                f"adapter {loaded.version} expects features {loaded.spec}, "
                f"this encoder gives {self.spec}"
            )
        if check_encoder and loaded is not self._adapter:
            mismatch = loaded.encoder_mismatch(self.encoder.name)
            if mismatch:
                raise AdapterError(mismatch)
        return loaded

    def usable(self, adapter: Adapter) -> str | None:
        """Why this ranker must not score with ``adapter`` (features or encoder), or ``None``."""
        try:
            self._checked(adapter)
        except AdapterError as problem:
            return str(problem)
        return None

    def features(
        self,
        contests: Sequence[ContestVotes],
        field_reference: FieldReference = whole_field,
        progress: bool = False,
        guard: bool = True,
    ) -> np.ndarray:
        """Feature rows of every caption of ``contests``, concatenated in order.

        With ``guard`` (the default) instructions addressed to a model are removed from each
        caption first (``ranker.guard``), so a refit learns from what scoring will see.
        """
        if guard:
            contests = [guarded(contest) for contest in contests]
        return featurize_contests(self.encoder, contests, field_reference, progress)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length sentence embeddings (cached), shape (len(texts), dimension)."""
        return self.encoder.encode(list(texts))

    def score_many(
        self,
        requests: Sequence[ScoreRequest],
        adapters: Sequence[Adapter | None] | None = None,
        progress: bool = False,
        guard: bool = True,
    ) -> list[np.ndarray]:
        """Scores for several contests at once (one encoder batch), one array per request.

        ``adapters[i]`` scores request ``i`` (``None``: the ranker's adapter), so communities
        with different adapters still share one encoder batch. ``progress`` shows bars on
        stderr for large batches (the CLI's choice; a bot's log does not want them). With
        ``guard`` (the default) instructions addressed to a model are removed from each caption
        first (``ranker.guard``); ``guard=False`` is only for measuring what the guard prevents.
        """
        contests = [
            ContestVotes(
                "",
                tuple(CaptionVotes(c) for c in checked_captions(captions)),
                (description or "").strip(),
            )
            for description, captions in requests
        ]
        chosen = [
            self._checked(a) if a else self.adapter for a in adapters or [None] * len(contests)
        ]
        features = self.features(contests, progress=progress, guard=guard)
        bounds = np.cumsum([0] + [len(c.captions) for c in contests])
        return [
            adapter.score_features(features[a:b]).astype(np.float64)
            for adapter, (a, b) in zip(chosen, itertools.pairwise(bounds), strict=True)
        ]

    def score(
        self,
        description: str | None,
        captions: Sequence[str],
        adapter: Adapter | None = None,
        guard: bool = True,
    ) -> np.ndarray:
        """One score per caption (Bradley–Terry logits; compare within a contest only)."""
        return self.score_many([(description, captions)], [adapter], guard=guard)[0]

    def rank(
        self, description: str | None, captions: Sequence[str], adapter: Adapter | None = None
    ) -> AIRanking:
        """The captions best first, with the probability that the top pick wins a vote."""
        scores = self.score(description, captions, adapter)
        return ranking_from_scores(captions, scores, adapter or self.adapter)

    def refit(
        self,
        contests: Sequence[ContestVotes],
        current: Adapter | None = None,
        policy: RefitPolicy | None = None,
    ) -> RefitResult:
        """Fit a community adapter on ``contests`` (oldest first), initialised from ``current``
        (default: the ranker's adapter), and report whether it should be promoted.

        The ranker keeps its adapter; promoting means ``ranker.adapter = result.adapter``.
        The candidate records this ranker's encoder, whose embeddings it was fitted on.
        """
        current = current or self.adapter
        contests = [c for c in contests if c.captions]
        features = self.features(contests)
        return refit_adapter(contests, features, current, policy, self.encoder_record)

    @property
    def encoder_record(self) -> dict[str, object]:
        """What an adapter fitted on this ranker's features records of the encoder."""
        return {"name": self.encoder.name, "dimension": self.encoder.dimension}


def guarded(contest: ContestVotes) -> ContestVotes:
    """``contest`` with instructions addressed to a model removed from its captions."""
    return replace(
        contest,
        captions=tuple(replace(c, caption=strip_injection(c.caption)[0]) for c in contest.captions),
    )


def checked_captions(captions: Sequence[str]) -> list[str]:
    """``captions`` as a list of strings; ``RankerInputError`` if empty or with a blank one."""
    if isinstance(captions, str):
        raise RankerInputError("captions must be a sequence of strings, not one string")
    texts = [str(c) for c in captions]
    if not texts:
        raise RankerInputError("no captions to score")
    if any(not t.strip() for t in texts):
        raise RankerInputError("empty caption")
    return texts


def ranking_from_scores(
    captions: Sequence[str], scores: np.ndarray, adapter: Adapter | None = None
) -> AIRanking:
    """An ``AIRanking`` from one contest's scores, its confidences calibrated by the adapter's
    held-out temperature."""
    order = np.argsort(-scores, kind="stable")
    top = scores[order[0]]
    temperature = adapter.temperature if adapter else 1.0
    if len(scores) > 1:
        confidence = float(sigmoid((top - scores[order[1]]) / temperature))
        field_confidence = float(sigmoid((top - scores[order[1:]]) / temperature).mean())
    else:
        confidence = field_confidence = 1.0
    return AIRanking(
        captions=tuple(captions),
        scores=tuple(float(s) for s in scores),
        order=tuple(int(i) for i in order),
        confidence=confidence,
        field_confidence=field_confidence,
        adapter_version=adapter.version if adapter else "",
        calibrated=adapter.calibrated if adapter else False,
    )
