from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings


def test_defaults_without_any_configuration(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no punchline.toml here
    settings = load_settings({})
    assert (settings.token, settings.database, settings.device) == (
        None,
        Path("punchline.db"),
        "auto",
    )


def test_environment_overrides_the_file(tmp_path):
    path = tmp_path / "punchline.toml"
    path.write_text('token = "from-file"\ndatabase = "file.db"\nbackups_kept = 3\n')
    settings = load_settings({"PUNCHLINE_CONFIG": str(path), "PUNCHLINE_DB": "env.db"})
    assert (settings.token, settings.database, settings.backups_kept) == (
        "from-file",
        Path("env.db"),
        3,
    )


def test_token_never_shows_in_repr():
    settings = load_settings({"DISCORD_TOKEN": "secret-token-value"}, config_file=None)
    assert "secret-token-value" not in repr(settings)


def test_missing_token_says_what_to_do():
    with pytest.raises(ConfigError) as caught:
        load_settings({}, config_file=None).require_token()
    assert "DISCORD_TOKEN" in str(caught.value)
    assert "--demo" in str(caught.value)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PUNCHLINE_DEVICE": "tpu"}, "must be one of auto, cpu, cuda"),
        ({"PUNCHLINE_BACKUPS_KEPT": "many"}, "whole number"),
        ({"PUNCHLINE_LLM": "/nope.gguf"}, "not a file"),
        ({"PUNCHLINE_ENCODER": "/nope"}, "not a folder"),
        ({"PUNCHLINE_CONFIG": "/nope.toml"}, "does not exist"),
    ],
)
def test_bad_values_are_explained(env, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(env)


def test_bad_toml_and_unknown_keys(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("token = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings({}, config_file=bad)
    unknown = tmp_path / "unknown.toml"
    unknown.write_text('tokn = "x"\n')
    with pytest.raises(ConfigError, match="unknown setting"):
        load_settings({}, config_file=unknown)


def test_shards_from_the_environment_and_the_file(tmp_path):
    """``PUNCHLINE_SHARD_IDS`` takes lists and ranges; the TOML file a list of numbers."""
    env = {"PUNCHLINE_SHARD_COUNT": "8", "PUNCHLINE_SHARD_IDS": "0, 2, 4-6"}
    settings = load_settings(env, config_file=None)
    assert (settings.shard_count, settings.shard_ids) == (8, (0, 2, 4, 5, 6))
    assert settings.shards(recommended=3).describe() == "shard(s) 0, 2, 4, 5, 6 of 8"
    path = tmp_path / "punchline.toml"
    path.write_text("shard_count = 4\nshard_ids = [3, 1]\n")
    assert load_settings({}, config_file=path).shard_ids == (1, 3)


def test_without_shard_settings_a_process_runs_every_recommended_shard():
    settings = load_settings({}, config_file=None)
    assert settings.shards(recommended=3).ids == frozenset({0, 1, 2})
    counted = load_settings({"PUNCHLINE_SHARD_COUNT": "5"}, config_file=None)
    assert counted.shards(recommended=3).count == 5


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PUNCHLINE_SHARD_IDS": "0"}, "needs PUNCHLINE_SHARD_COUNT"),
        ({"PUNCHLINE_SHARD_COUNT": "2", "PUNCHLINE_SHARD_IDS": "1,2"}, r"between 0 and 1"),
        ({"PUNCHLINE_SHARD_COUNT": "2", "PUNCHLINE_SHARD_IDS": "one"}, "such as 0,1 or 0-3"),
        ({"PUNCHLINE_SHARD_COUNT": "0"}, "at least 1"),
    ],
)
def test_bad_shard_settings_are_explained(env, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(env, config_file=None)
