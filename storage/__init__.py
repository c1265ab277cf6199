"""SQLite storage for Punchline: the only package that speaks SQL.

Open a database with :func:`open_database`; every table group has a small repository module
(``guilds``, ``prompts``, ``contests``, ``entries``, ``votes``, ``adapters``, ``audit``, ``jokes``)
whose functions take the :class:`sqlite_utils.Database` as their first argument.
"""

from storage.db import Database, open_database, transaction
from storage.migrations import SCHEMA_VERSION, migrate, schema_version

__all__ = [
    "SCHEMA_VERSION",
    "Database",
    "migrate",
    "open_database",
    "schema_version",
    "transaction",
]
