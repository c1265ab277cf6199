"""Simulated communities built from NYCCC captions: a taste, its votes, its contests.

A community's taste is the NYCCC crowd's (each caption's mean, standardised within its cartoon)
plus a *trait* the community loves or dislikes. Each trait is a rule a reader could state in one
sentence and is computed from the text alone, by a mechanism of its own: a topic lexicon, word
counts, punctuation, repeated words and sounds, a dark lexicon. The ranker never sees these rules;
it sees only the votes they produce.

Votes mimic a Discord server's daily contest: 20 captions of one cartoon, a panel of voters each
with a personal leniency, 30-50 ratings per caption on the bot's 3-point scale (😂 / 🙂 / 😐),
each rating the caption's appeal blurred by that voter's noise.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ranker.votes import CaptionVotes, ContestVotes

_WORD = re.compile(r"[a-z']+")
TRAIT_WEIGHT = 2.0  # in standard deviations of the crowd's appeal within a cartoon
RATINGS_PER_CAPTION = (30, 50)
VOTERS = 60
VOTER_LENIENCY_SD = 0.5
RATING_NOISE_SD = 1.0
APPEAL_TO_RATING = 0.7
# Thresholds on the latent rating: about half the ratings 😐, a fifth 😂, as in NYCCC.
THRESHOLDS = (0.0, 1.2)

STOP_WORDS = frozenset(
    "the a an and or to of in on at it is i you he she we they my your that this for with was be "
    "are not but so just me his her our its what do if have has don't it's i'm there their them "
    "then than from about all can will would could should been were one out up get got like know "
    "no yes now how why who when where here off".split()
)


def words(caption: str) -> list[str]:
    """Lower-case words of a caption, apostrophes at the ends dropped."""
    return [w.strip("'") for w in _WORD.findall(caption.lower())]


def lexicon_trait(lexicon: str) -> Callable[[str], bool]:
    """A trait that holds when the caption uses any word of ``lexicon`` (space-separated)."""
    vocabulary = frozenset(lexicon.split())
    return lambda caption: bool(vocabulary & set(words(caption)))


def plays_on_words(caption: str) -> bool:
    """A content word said twice, or three content words on the same initial sound."""
    content = [w for w in words(caption) if len(w) >= 3 and w not in STOP_WORDS]
    if len(content) != len(set(content)):
        return True
    initials = Counter(w[0] for w in content)
    return bool(initials) and max(initials.values()) >= 3


FOOD = (
    "eat ate eating eaten food foods lunch dinner breakfast brunch meal meals menu restaurant chef "
    "cook cooking cooked soup pizza sandwich burger steak salad dessert cake pie coffee tea wine "
    "beer drink drinks drinking hungry diet vegan vegetarian bacon cheese snack snacks delicious "
    "recipe kitchen waiter chicken egg eggs bread pasta sushi taco tacos cookie cookies appetizer "
    "appetizers entree buffet gluten calories"
)
WORK = (
    "boss office meeting meetings job jobs work working worked career ceo company employee "
    "employees hr salary promotion fired hire hired manager management coworker coworkers client "
    "clients business quarterly memo intern"
)
DARK = (
    "dead death deaths die died dies dying kill killed killing kills killer murder murdered "
    "murderer funeral grave graves coffin corpse cancer hell suicide blood bloody gun guns shoot "
    "shot bury buried poison poisoned doom tomb widow disease morgue autopsy execution executed "
    "war bomb zombie afterlife coroner hate hated worst awful terrible horrible miserable misery "
    "sad afraid scared fear pain hurt cry crying lonely despair doomed disaster nightmare evil damn"
)
ANIMALS = (
    "dog dogs cat cats bird birds horse horses cow cows pig pigs fish mouse mice rat rats bear "
    "bears lion lions snake snakes duck ducks chicken chickens sheep goat wolf wolves rabbit "
    "monkey elephant shark sharks puppy kitten pet pets animal animals"
)
FAMILY = (
    "wife husband honey dear darling marriage married marry wedding divorce divorced kids kid "
    "children child son daughter mother mom mommy father dad daddy parents family grandma grandpa "
    "baby babies sister brother anniversary"
)


@dataclass(frozen=True)
class Taste:
    """A community's taste: the crowd's, plus ``weight`` × a trait (negative: disliked)."""

    name: str
    sentence: str  # the taste as its members would state it
    trait: Callable[[str], bool] | None
    weight: float = TRAIT_WEIGHT

    def has_trait(self, captions: Sequence[str]) -> np.ndarray:
        """1.0 where a caption has the trait (all zeros for the crowd's own taste)."""
        if self.trait is None:
            return np.zeros(len(captions))
        return np.array([float(self.trait(c)) for c in captions])

    def appeal(self, captions: Sequence[str], crowd: np.ndarray) -> np.ndarray:
        """The community's appeal of each caption: crowd z-score plus the weighted trait."""
        return crowd + self.weight * self.has_trait(captions)


SUITE = (
    Taste("loves food", "We love captions about food and drink.", lexicon_trait(FOOD)),
    Taste(
        "dislikes work",
        "We are tired of office and work jokes.",
        lexicon_trait(WORK),
        -TRAIT_WEIGHT,
    ),
    Taste("short", "We like short captions: seven words or fewer.", lambda c: len(c.split()) <= 7),
    Taste("questions", "We love captions that ask a question.", lambda c: "?" in c),
    Taste("wordplay", "We love captions that repeat a word or a sound.", plays_on_words),
    Taste("dark", "We love dark captions: death, violence, misery.", lexicon_trait(DARK)),
    Taste("crowd", "Our taste is the New Yorker crowd's.", None, 0.0),
)
# Different instances of the same mechanisms, on different contests, to choose levers with.
DEVELOPMENT = (
    Taste("loves animals", "We love captions about animals.", lexicon_trait(ANIMALS)),
    Taste(
        "dislikes family", "We are tired of marriage jokes.", lexicon_trait(FAMILY), -TRAIT_WEIGHT
    ),
    Taste("long", "We like long captions: fourteen words or more.", lambda c: len(c.split()) >= 14),
    Taste("exclamations", "We love captions that exclaim.", lambda c: "!" in c),
    Taste("crowd", "Our taste is the New Yorker crowd's.", None, 0.0),
)


def crowd_appeal(contest: ContestVotes) -> np.ndarray:
    """The NYCCC crowd's mean rating of each caption, standardised within its cartoon."""
    means = np.array([c.mean for c in contest.captions])
    return (means - means.mean()) / max(float(means.std()), 1e-9)


def rate(appeal: np.ndarray, rng: np.random.Generator, leniency: np.ndarray) -> list[CaptionVotes]:
    """3-point ratings of captions with the given appeal, by voters drawn from a panel."""
    rated = []
    for value in appeal:
        count = int(rng.integers(RATINGS_PER_CAPTION[0], RATINGS_PER_CAPTION[1] + 1))
        voters = rng.choice(len(leniency), size=min(count, len(leniency)), replace=False)
        latent = (
            APPEAL_TO_RATING * value
            + leniency[voters]
            + rng.normal(0.0, RATING_NOISE_SD, len(voters))
        )
        ratings = 1 + (latent > THRESHOLDS[0]).astype(int) + (latent > THRESHOLDS[1]).astype(int)
        tally = np.bincount(ratings, minlength=4)
        rated.append(CaptionVotes("", int(tally[3]), int(tally[2]), int(tally[1])))
    return rated


@dataclass(frozen=True)
class CommunityContest:
    """One simulated contest: the votes the ranker sees, the trait the benchmark keeps."""

    votes: ContestVotes
    trait: np.ndarray  # 1.0 where a caption has the community's trait
    appeal: np.ndarray  # what the voters' ratings were drawn from


def voter_panel(rng: np.random.Generator) -> np.ndarray:
    """A community's voters, as each one's leniency (added to every rating they give)."""
    return rng.normal(0.0, VOTER_LENIENCY_SD, VOTERS)


def simulate_contests(
    taste: Taste,
    panel: np.ndarray,
    cartoons: Sequence[ContestVotes],
    count: int,
    size: int,
    rng: np.random.Generator,
    first_id: int = 0,
) -> list[CommunityContest]:
    """``count`` contests of ``size`` captions, cycling over ``cartoons`` without reusing a caption.

    Each contest takes fresh captions of one cartoon (its description included) and has them
    rated by the community's ``panel`` of voters.
    """
    unused = {id(c): list(rng.permutation(len(c.captions))) for c in cartoons}
    contests = []
    for number in range(count):
        cartoon = cartoons[number % len(cartoons)]
        pool = unused[id(cartoon)]
        if len(pool) < size:
            raise ValueError(f"cartoon {cartoon.contest} has too few unused captions")
        chosen = [pool.pop() for _ in range(size)]
        texts = [cartoon.captions[i].caption for i in chosen]
        crowd = crowd_appeal(cartoon)[chosen]
        appeal = taste.appeal(texts, crowd)
        rated = rate(appeal, rng, panel)
        votes = ContestVotes(
            first_id + number,
            tuple(
                CaptionVotes(text, r.funny, r.somewhat_funny, r.unfunny)
                for text, r in zip(texts, rated, strict=True)
            ),
            cartoon.description,
        )
        contests.append(CommunityContest(votes, taste.has_trait(texts), appeal))
    return contests


def simulate_community(
    taste: Taste,
    history_cartoons: Sequence[ContestVotes],
    test_cartoons: Sequence[ContestVotes],
    replicate: int,
    history_contests: int,
    test_contests: int,
    size: int = 20,
) -> tuple[list[CommunityContest], list[CommunityContest]]:
    """One community's history and its test contests, on disjoint sets of cartoons.

    Each history contest is on a cartoon of its own (as a server's daily prompt is), in an order
    drawn per replicate; the test contests cycle over ``test_cartoons``. The seed depends on the
    taste's name and the replicate only, so every method compared on a community sees the same
    votes.
    """
    rng = np.random.default_rng(1000 * replicate + sum(map(ord, taste.name)))
    panel = voter_panel(rng)
    order = rng.permutation(len(history_cartoons))
    history = simulate_contests(
        taste, panel, [history_cartoons[i] for i in order], history_contests, size, rng
    )
    test = simulate_contests(taste, panel, test_cartoons, test_contests, size, rng, 10_000)
    return history, test
