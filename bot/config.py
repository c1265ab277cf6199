"""Configuration: environment variables over an optional TOML file over defaults.

Validated once at start; every problem is reported as a :class:`ConfigError` whose message says
what to change, never a traceback.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from storage.shards import ShardSet

DEFAULT_CONFIG_FILE = Path("punchline.toml")
DEVICES = ("auto", "cpu", "cuda")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class ConfigError(ValueError):
    """A configuration problem, described for the person running the bot."""


@dataclass(frozen=True)
class Settings:
    """Everything the bot reads at start. Each field has an env var ``ENV_NAMES[field]``."""

    token: str | None = field(default=None, repr=False)
    database: Path = Path("punchline.db")
    adapter_dir: Path = Path("adapters")
    backup_dir: Path = Path("backups")
    backups_kept: int = 7
    device: str = "auto"
    encoder: str | None = None
    llm: str | None = None
    llm_url: str | None = None
    dev_guild_id: int | None = None
    log_level: str = "INFO"
    discord_api: str | None = None
    ai: str = "on"
    ai_timeout_s: int = 120
    shard_count: int | None = None
    shard_ids: tuple[int, ...] | None = None

    def shards(self, recommended: int) -> ShardSet:
        """The shards this process runs: the configured ones, else all ``recommended`` (the
        count Discord's ``GET /gateway/bot`` answers)."""
        count = self.shard_count or recommended
        return ShardSet(count, frozenset(self.shard_ids or range(count)))

    def require_token(self) -> str:
        """The Discord token, or a :class:`ConfigError` that says how to get one."""
        if not self.token:
            raise ConfigError(
                "No Discord token is configured.\n"
                "  • Create an application at https://discord.com/developers/applications, add a bot,\n"
                "    copy its token, then run:  DISCORD_TOKEN=<token> python bot.py\n"
                '    (or put  token = "…"  in punchline.toml). README.md, \'Create the Discord\n'
                "    application', lists the scopes, permissions and intents to choose.\n"
                "  • To see the whole bot work offline first:  python bot.py --demo"
            )
        return self.token


ENV_NAMES = {
    "token": "DISCORD_TOKEN",
    "database": "PUNCHLINE_DB",
    "adapter_dir": "PUNCHLINE_ADAPTER_DIR",
    "backup_dir": "PUNCHLINE_BACKUP_DIR",
    "backups_kept": "PUNCHLINE_BACKUPS_KEPT",
    "device": "PUNCHLINE_DEVICE",
    "encoder": "PUNCHLINE_ENCODER",
    "llm": "PUNCHLINE_LLM",
    "llm_url": "PUNCHLINE_LLM_URL",
    "dev_guild_id": "PUNCHLINE_DEV_GUILD",
    "log_level": "PUNCHLINE_LOG_LEVEL",
    "discord_api": "PUNCHLINE_DISCORD_API",
    "ai": "PUNCHLINE_AI",
    "ai_timeout_s": "PUNCHLINE_AI_TIMEOUT",
    "shard_count": "PUNCHLINE_SHARD_COUNT",
    "shard_ids": "PUNCHLINE_SHARD_IDS",
}


def load_settings(
    env: Mapping[str, str] | None = None, config_file: Path | None = None
) -> Settings:
    """Read and validate the settings (``env`` defaults to ``os.environ``)."""
    env = os.environ if env is None else env
    path = config_file or Path(env.get("PUNCHLINE_CONFIG", DEFAULT_CONFIG_FILE))
    raw: dict[str, object] = {}
    if path.exists():
        try:
            raw.update(tomllib.loads(path.read_text(encoding="utf-8")))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    elif config_file is not None or "PUNCHLINE_CONFIG" in env:
        raise ConfigError(f"The config file {path} does not exist.")
    unknown = set(raw) - set(ENV_NAMES)
    if unknown:
        raise ConfigError(
            f"{path}: unknown setting(s) {', '.join(sorted(unknown))}; "
            f"known: {', '.join(ENV_NAMES)}"
        )
    raw.update({name: env[var] for name, var in ENV_NAMES.items() if env.get(var)})
    return _validated(raw, source=path)


def _validated(raw: dict[str, object], source: Path) -> Settings:
    settings = Settings()
    kinds = {f.name: f.type for f in fields(Settings)}
    for name, value in raw.items():
        where = f"{ENV_NAMES[name]} (or '{name}' in {source})"
        kind = str(kinds[name])
        if name == "shard_ids":
            value = _shard_ids(value, where)
        elif "Path" in kind:
            value = Path(str(value)).expanduser()
        elif "int" in kind:
            try:
                value = int(str(value))
            except ValueError:
                raise ConfigError(f"{where} must be a whole number, not {value!r}") from None
        else:
            value = str(value)
        settings = replace(settings, **{name: value})
    if settings.device not in DEVICES:
        raise ConfigError(
            f"PUNCHLINE_DEVICE must be one of {', '.join(DEVICES)}, not {settings.device!r}"
        )
    if settings.log_level.upper() not in LOG_LEVELS:
        raise ConfigError(f"PUNCHLINE_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")
    if settings.ai_timeout_s < 1:
        raise ConfigError("PUNCHLINE_AI_TIMEOUT must be at least 1 (seconds)")
    if settings.backups_kept < 1:
        raise ConfigError("PUNCHLINE_BACKUPS_KEPT must be at least 1")
    if settings.llm and settings.llm_url:
        raise ConfigError(
            "Set PUNCHLINE_LLM (a local GGUF file) or PUNCHLINE_LLM_URL (a server), not both"
        )
    if settings.llm and not Path(settings.llm).is_file():
        raise ConfigError(f"PUNCHLINE_LLM points at {settings.llm}, which is not a file")
    if settings.ai not in ("on", "off"):
        raise ConfigError(f"PUNCHLINE_AI must be on or off, not {settings.ai!r}")
    if settings.discord_api and not settings.discord_api.startswith(("http://", "https://")):
        raise ConfigError(
            "PUNCHLINE_DISCORD_API must be an http:// or https:// URL, such as a local Discord "
            f"emulator's http://127.0.0.1:8080, not {settings.discord_api!r}"
        )
    if settings.encoder and not Path(settings.encoder).is_dir():
        raise ConfigError(f"PUNCHLINE_ENCODER points at {settings.encoder}, which is not a folder")
    _check_shards(settings)
    return replace(settings, log_level=settings.log_level.upper())


def _shard_ids(value: object, where: str) -> tuple[int, ...]:
    """Shard ids from a TOML list or from text such as ``"0,2"`` or ``"4-7"`` (ranges inclusive)."""
    parts = value if isinstance(value, list) else str(value).replace(" ", "").split(",")
    ids: list[int] = []
    try:
        for part in parts:
            first, _, last = str(part).partition("-") if isinstance(part, str) else (part, "", "")
            ids.extend(range(int(first), int(last or first) + 1))
    except ValueError:
        raise ConfigError(
            f"{where} must list shard ids such as 0,1 or 0-3, not {value!r}"
        ) from None
    return tuple(sorted(set(ids)))


def _check_shards(settings: Settings) -> None:
    count, ids = settings.shard_count, settings.shard_ids
    if count is not None and count < 1:
        raise ConfigError("PUNCHLINE_SHARD_COUNT must be at least 1")
    if ids is None:
        return
    if count is None:
        raise ConfigError(
            "PUNCHLINE_SHARD_IDS needs PUNCHLINE_SHARD_COUNT: every process of the bot must "
            "agree on the total number of shards"
        )
    outside = [i for i in ids if not 0 <= i < count]
    if outside or not ids:
        raise ConfigError(
            f"PUNCHLINE_SHARD_IDS must be between 0 and {count - 1} "
            f"(PUNCHLINE_SHARD_COUNT is {count}), not {list(ids)}"
        )
