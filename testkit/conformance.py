"""Every REST exchange of a test held against Discord's OpenAPI spec.

``../shared/discord/spec/openapi.json`` is there for CI and every developer but not in a user's
fresh clone; without it (or without ``jsonschema``) the check is skipped, and
``tests/discord_emulator/test_conformance.py`` says so as a skipped test.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator
from typing import Any

from discord_emulator import DiscordEmulator
from discord_emulator.conformance import DEFAULT_SPEC, SpecConformance


class SpecViolation(AssertionError):
    """The bot sent, or the emulator answered, something Discord's spec does not allow."""


def spec_missing_reason() -> str | None:
    """Why the spec cannot be checked here, or None when it can."""
    if not DEFAULT_SPEC.is_file():
        return (
            f"Discord's OpenAPI spec not found at {DEFAULT_SPEC} (only CI and developers have it)"
        )
    try:
        import jsonschema  # noqa: F401
    except ImportError:
        return "jsonschema is not installed (pip install -e '.[test]')"
    return None


@functools.cache
def spec_conformance() -> SpecConformance | None:
    """The validator, loaded once per process; None when :func:`spec_missing_reason` says so."""
    if spec_missing_reason() is not None:
        return None
    return SpecConformance.load(DEFAULT_SPEC)


def check_exchanges(emu: DiscordEmulator) -> None:
    """Raise :class:`SpecViolation` listing every exchange that breaks the spec."""
    conformance = spec_conformance()
    if conformance is None:
        return
    report = conformance.check(emu.exchanges)
    if report.violations:
        raise SpecViolation(report.summary())


@contextlib.asynccontextmanager
async def checked_emulator(token: str, **options: Any) -> AsyncIterator[DiscordEmulator]:
    """A started emulator whose exchanges are checked against the spec when the block ends."""
    record = spec_conformance() is not None
    async with DiscordEmulator(token=token, record_exchanges=record, **options) as emu:
        yield emu
    check_exchanges(emu)
