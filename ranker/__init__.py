"""Punchline's humour ranker: scores captions and learns a community's taste.

Plain data in, scores out — nothing here knows about Discord or SQLite.

    from ranker import Ranker
    ranker = Ranker()                       # bundled MiniLM encoder + NYCCC base adapter
    ranking = ranker.rank("A dog in a suit at a desk.", captions)
    result = ranker.refit(contests)         # contests: list[ContestVotes], oldest first
    if result.promoted:
        save_adapter(result.adapter, path); ranker.adapter = result.adapter

``AsyncRanker`` runs the same work on dedicated threads for asyncio code; ``AsyncLLM`` runs the
language model in a process of its own that a wedged call kills and restarts.
"""

from ranker.adapter import Adapter, AdapterError, base_adapter_path, load_adapter, save_adapter
from ranker.core import AIRanking, Ranker, ranking_from_scores
from ranker.encoders import SentenceEncoder, resolve_device
from ranker.evaluate import PairwiseAccuracy
from ranker.joke_prompts import pick_examples, sanitize_topic
from ranker.jokes import (
    CARTOON_SETTINGS,
    JOKE_BUDGET_S,
    TOPIC_SETTINGS,
    Joke,
    JokeModels,
    JokeRun,
    JokeSettings,
    generate_jokes,
    topic_refusal,
)
from ranker.llm import (
    Completion,
    LlamaCppBackend,
    LLMBackend,
    LLMError,
    OpenAICompatibleBackend,
    load_llm,
)
from ranker.process import ModelCrashed, ModelTimeout
from ranker.refit import RefitPolicy, RefitResult
from ranker.taste import FactorEffect, TasteFindings, Trust
from ranker.votes import CaptionVotes, ContestVotes, RankerInputError
from ranker.worker import AsyncJokeModels, AsyncLLM, AsyncRanker, ModelWorker

__all__ = [
    "CARTOON_SETTINGS",
    "JOKE_BUDGET_S",
    "TOPIC_SETTINGS",
    "AIRanking",
    "Adapter",
    "AdapterError",
    "AsyncJokeModels",
    "AsyncLLM",
    "AsyncRanker",
    "CaptionVotes",
    "Completion",
    "ContestVotes",
    "FactorEffect",
    "Joke",
    "JokeModels",
    "JokeRun",
    "JokeSettings",
    "LLMBackend",
    "LLMError",
    "LlamaCppBackend",
    "ModelCrashed",
    "ModelTimeout",
    "ModelWorker",
    "OpenAICompatibleBackend",
    "PairwiseAccuracy",
    "Ranker",
    "RankerInputError",
    "RefitPolicy",
    "RefitResult",
    "SentenceEncoder",
    "TasteFindings",
    "Trust",
    "base_adapter_path",
    "generate_jokes",
    "load_adapter",
    "load_llm",
    "pick_examples",
    "ranking_from_scores",
    "resolve_device",
    "sanitize_topic",
    "save_adapter",
    "topic_refusal",
]
