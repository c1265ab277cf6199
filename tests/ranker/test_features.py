"""Feature blocks: layout, length control, and field features relative to the contest."""

from __future__ import annotations

import numpy as np

from ranker.features import (
    CHAR_RANGE,
    FIELD_NAMES,
    FORM_NAMES,
    WORD_RANGE,
    FeatureSpec,
    contest_features,
    field_features,
    form_features,
)


def unit_rows(count: int, dim: int = 8, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).normal(size=(count, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_spec_names_match_the_matrix():
    spec = FeatureSpec(embedding_dim=8)
    captions = ["Is this the line for the ark?", "“Honey,” he said, “I'm home!”", "Fine."]
    matrix = contest_features(unit_rows(3), captions, unit_rows(1, seed=9)[0])
    assert matrix.shape == (3, spec.dim) == (3, len(spec.names))
    assert FeatureSpec.from_dict(spec.to_dict()) == spec


def test_form_features_read_the_surface():
    question = dict(zip(FORM_NAMES, form_features("Is this the line for the ark?"), strict=True))
    quote = dict(zip(FORM_NAMES, form_features("“Honey,” he said, “you're home!”"), strict=True))
    assert question["question"] == 1.0
    assert question["quotation"] == 0.0
    assert quote["quotation"] == 1.0
    assert quote["exclamation"] == 1.0
    assert quote["second_person"] == 1.0


def test_length_is_clipped_at_both_ends():
    long = form_features("word " * 500)
    assert long[:2] == form_features("word " * 5000)[:2]
    assert long[:2] == [np.log(CHAR_RANGE[1]), np.log(WORD_RANGE[1])]
    short = form_features("Oh.")
    assert short[:2] == form_features("Oh no, Ed.")[:2]
    assert short[:2] == [np.log(CHAR_RANGE[0]), np.log(WORD_RANGE[0])]


def test_field_features_are_z_scored_within_the_contest():
    embeddings = unit_rows(40)
    embeddings[:5] = embeddings[0] + 0.01 * unit_rows(5, seed=1)  # a crowded idea
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    field = field_features(embeddings)
    assert field.shape == (40, len(FIELD_NAMES))
    np.testing.assert_allclose(field.mean(axis=0), 0.0, atol=1e-5)
    nearest = FIELD_NAMES.index("nearest_similarity")
    assert field[:5, nearest].min() > field[5:, nearest].max()


def test_field_reference_restricts_the_neighbours():
    embeddings = unit_rows(30)
    embeddings[1] = embeddings[0]  # 0 and 1 are duplicates
    everyone = field_features(embeddings)
    reference = np.ones(30, dtype=bool)
    reference[1] = False  # 1 is not part of the field: 0 loses its twin
    restricted = field_features(embeddings, reference)
    nearest = FIELD_NAMES.index("nearest_similarity")
    assert everyone[0, nearest] > restricted[0, nearest]


def test_tiny_fields_carry_no_information():
    assert not field_features(unit_rows(2)).any()
    assert not contest_features(unit_rows(1), ["Alone."])[:, -len(FIELD_NAMES) :].any()
