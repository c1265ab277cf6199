"""SQLite storage for Punchline: the only package that speaks SQL.

Open a database with :func:`open_database`; every table group has a small repository module
(``guilds``, ``prompts``, ``contests``, ``entries``, ``votes``, ``adapters``, ``audit``, ``jokes``)
whose functions take the :class:`sqlite_utils.Database` as their first argument.
"""

from storage.db import Database, StorageBusy, StorageFull, transaction
from storage.migrations import SCHEMA_VERSION, migrate, schema_version
from storage.opening import open_database

__all__ = [
    "SCHEMA_VERSION",
    "Database",
    "StorageBusy",
    "StorageFull",
    "migrate",
    "open_database",
    "schema_version",
    "transaction",
]
