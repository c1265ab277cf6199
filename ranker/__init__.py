"""Punchline's humour ranker: scores captions and learns a community's taste.

Plain data in, scores out — nothing here knows about Discord or SQLite.

    from ranker import Ranker
    ranker = Ranker()                       # bundled MiniLM encoder + NYCCC base adapter
    ranking = ranker.rank("A dog in a suit at a desk.", captions)
    result = ranker.refit(contests)         # contests: list[ContestVotes], oldest first
    if result.promoted:
        save_adapter(result.adapter, path); ranker.adapter = result.adapter

``AsyncRanker`` / ``AsyncLLM`` run the same work on dedicated threads for asyncio code.
"""

from ranker.adapter import Adapter, AdapterError, base_adapter_path, load_adapter, save_adapter
from ranker.core import AIRanking, Ranker, ranking_from_scores
from ranker.encoders import SentenceEncoder
from ranker.evaluate import PairwiseAccuracy
from ranker.jokes import Joke, JokeRun, generate_jokes, pick_examples, sanitize_topic
from ranker.llm import LlamaCppBackend, LLMBackend, LLMError, OpenAICompatibleBackend, load_llm
from ranker.refit import RefitPolicy, RefitResult
from ranker.taste import FactorEffect, TasteFindings, Trust
from ranker.votes import CaptionVotes, ContestVotes, RankerInputError
from ranker.worker import AsyncLLM, AsyncRanker, ModelWorker

__all__ = [
    "AIRanking",
    "Adapter",
    "AdapterError",
    "AsyncLLM",
    "AsyncRanker",
    "CaptionVotes",
    "ContestVotes",
    "FactorEffect",
    "Joke",
    "JokeRun",
    "LLMBackend",
    "LLMError",
    "LlamaCppBackend",
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
    "sanitize_topic",
    "save_adapter",
]
