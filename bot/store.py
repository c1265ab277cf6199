"""Database access from the bot without blocking the event loop.

One worker thread owns the SQLite connection; every storage call is queued to it and awaited.
A single writer also means the bot never races itself for SQLite's write lock.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import ParamSpec, TypeVar

from sqlite_utils import Database

from storage import open_database
from storage.backup import restore_latest_backup
from storage.db import DatabaseError, run_call

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")


class Store:
    """``await store.call(storage_function, *args)`` runs ``storage_function(db, *args)`` off-loop.

    A busy or full database is raised as ``storage.db.StorageBusy`` or ``StorageFull``.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="punchline-db")
        self._db: Database | None = None

    async def open(self) -> None:
        """Open and migrate the database on the worker thread (raises ``DatabaseError``)."""
        self._db = await self._run(open_database, self.path)

    async def call(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        if self._db is None:
            raise RuntimeError("Store.open() has not been awaited")
        return await self._run(run_call, fn, self._db, *args, **kwargs)

    async def _run(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    async def close(self) -> None:
        if self._db is not None:
            await self._run(self._db.close)
            self._db = None
        self._executor.shutdown(wait=True)


async def open_store(database: Path, backup_dir: Path, now: datetime) -> Store:
    """Open the bot's database; a damaged file is set aside and the newest healthy backup restored.

    Raises ``DatabaseError`` with what to do when the file is damaged and no backup can help.
    """
    store = Store(database)
    try:
        await store.open()
    except DatabaseError as problem:
        restored = await asyncio.to_thread(restore_latest_backup, database, backup_dir, now)
        if restored is None:
            await store.close()
            raise DatabaseError(
                f"{problem}. No healthy backup was found in {backup_dir} to restore."
            ) from None
        log.warning(
            "%s; restored the newest healthy backup, %s (the damaged file was kept beside it)",
            problem,
            restored.name,
        )
        await store.open()
    return store
