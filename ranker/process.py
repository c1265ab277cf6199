"""A model in a child process the bot can kill.

A model call wedged in a thread cannot be cancelled: later calls queue behind it until the bot
restarts. A call wedged in a child process can: :class:`ModelProcess` gives each call a time
limit, and a call past it (or one whose caller gave up) kills the child, starts a fresh one in
the background, and fails with :class:`ModelTimeout`; the next call is served by the new child.
A child that crashes (a segfault in native code) fails its call with :class:`ModelCrashed` and is
restarted the same way.

The child is started with ``spawn`` (a clean interpreter: no copy of the bot's threads, sockets
or event loop), builds its model with ``factory(*args, **kwargs)`` — a module-level function, so
it pickles — and answers ``(method, args, kwargs)`` requests over a pipe, one at a time. Starting
and waiting happen on helper threads, never on the event loop; the object works from any loop.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import pickle
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from multiprocessing.connection import Connection
from typing import Any

log = logging.getLogger(__name__)
_SPAWN = multiprocessing.get_context("spawn")


class ModelCrashed(RuntimeError):
    """The model's process died during a call or at start (it is restarted for the next call)."""


class ModelTimeout(TimeoutError):
    """A call ran past its time limit; its process was killed and is being restarted."""


def _portable(error: BaseException) -> BaseException:
    """``error`` if it survives pickling, else a RuntimeError carrying its description."""
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:  # noqa: BLE001 - any unpicklable exception is described instead
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error


def _serve(connection: Connection, factory: Callable[..., Any], args: tuple, kwargs: dict) -> None:
    """The child's main loop: build the model, then answer requests until the pipe closes."""
    try:
        model = factory(*args, **kwargs)
    except Exception as error:  # noqa: BLE001 - reported to the parent as the start's failure
        connection.send(("error", _portable(error)))
        return
    connection.send(("ready", getattr(model, "name", type(model).__name__)))
    while True:
        try:
            request = connection.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        method, call_args, call_kwargs = request
        try:
            reply = ("ok", getattr(model, method)(*call_args, **call_kwargs))
        except Exception as error:  # noqa: BLE001 - the caller gets it; the model stays up
            reply = ("error", _portable(error))
        connection.send(reply)


class ModelProcess:
    """One model in one child process; ``await call(method, ...)`` runs ``model.method(...)``."""

    def __init__(
        self,
        factory: Callable[..., Any],
        *args: Any,
        name: str = "model",
        call_timeout_s: float = 60.0,
        start_timeout_s: float = 300.0,
        **kwargs: Any,
    ) -> None:
        self.name = name
        self.call_timeout_s = call_timeout_s
        self.start_timeout_s = start_timeout_s
        self.restarts = 0
        self.model_name: str | None = None
        self._target = (factory, args, kwargs)
        self._helpers = ThreadPoolExecutor(max_workers=2, thread_name_prefix=name)
        self._process: Any = None
        self._connection: Connection | None = None
        self._starting: Future[None] | None = None
        self._guard = threading.Lock()
        self._locks: dict[int, asyncio.Lock] = {}

    async def start(self) -> None:
        """Start the child and wait until its model has loaded (raises what loading raised)."""
        await asyncio.wrap_future(self._ensure_starting())

    async def call(
        self, method: str, *args: Any, time_limit_s: float | None = None, **kwargs: Any
    ) -> Any:
        """``model.method(*args, **kwargs)`` in the child, within ``time_limit_s`` seconds (default
        ``call_timeout_s``). Calls queue: one runs at a time, as the model is single-threaded."""
        limit = time_limit_s or self.call_timeout_s
        async with self._lock():
            await asyncio.wrap_future(self._ensure_starting())
            loop = asyncio.get_running_loop()
            try:
                return await asyncio.wait_for(
                    loop.run_in_executor(self._helpers, self._round_trip, (method, args, kwargs)),
                    limit,
                )
            except TimeoutError:
                self._restart(f"{method} ran past {limit:g}s")
                raise ModelTimeout(f"{self.name}: {method} timed out; restarting") from None
            except asyncio.CancelledError:
                self._restart(f"{method} was abandoned by its caller")
                raise
            except ModelCrashed:
                self._restart(f"the process died during {method}")
                raise

    async def aclose(self) -> None:
        """Stop the child (asking it first) and the helper threads."""
        await asyncio.to_thread(self._stop)

    def _lock(self) -> asyncio.Lock:
        """One asyncio lock per event loop (tests run a shared model from several loops)."""
        loop = asyncio.get_running_loop()
        return self._locks.setdefault(id(loop), asyncio.Lock())

    def _round_trip(self, request: tuple) -> Any:
        connection = self._connection
        try:
            connection.send(request)  # type: ignore[union-attr]
            status, value = connection.recv()  # type: ignore[union-attr]
        except (EOFError, OSError, AttributeError) as error:
            code = self._process.exitcode if self._process is not None else None
            raise ModelCrashed(f"{self.name} process died (exit code {code})") from error
        if status == "error":
            raise value
        return value

    def _ensure_starting(self) -> Future[None]:
        with self._guard:
            alive = self._process is not None and self._process.is_alive()
            if self._starting is None or (self._starting.done() and not alive):
                self._starting = self._helpers.submit(self._spawn)
            return self._starting

    def _spawn(self) -> None:
        """Start a child and wait for its model to load (on a helper thread)."""
        parent, child = _SPAWN.Pipe()
        factory, args, kwargs = self._target
        process = _SPAWN.Process(
            target=_serve, args=(child, factory, args, kwargs), name=self.name, daemon=True
        )
        process.start()
        child.close()  # the parent keeps one end, so a dead child reads as end-of-file
        if not parent.poll(self.start_timeout_s):
            process.kill()
            raise ModelCrashed(f"{self.name} did not load within {self.start_timeout_s:.0f}s")
        try:
            status, value = parent.recv()
        except (EOFError, OSError) as error:
            raise ModelCrashed(f"{self.name} died while loading") from error
        if status == "error":
            process.join()
            raise value
        self._process, self._connection, self.model_name = process, parent, value

    def _restart(self, why: str) -> None:
        """Kill the child and start its replacement, both on a helper thread (the next call
        waits for the replacement)."""
        log.warning("%s: %s; killing and restarting its process", self.name, why)
        with self._guard:
            self.restarts += 1
            self._starting = self._helpers.submit(self._replace)

    def _replace(self) -> None:
        with self._guard:
            self._kill()
        self._spawn()

    def _kill(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            process.join(timeout=10)
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _stop(self) -> None:
        starting = self._starting
        if starting is not None:
            try:
                starting.result(timeout=self.start_timeout_s)
            except Exception:  # noqa: BLE001 - a child that never started has nothing to stop
                log.debug("%s: stopping a child that did not start", self.name)
        with self._guard:
            if self._connection is not None and self._process is not None:
                try:
                    self._connection.send(None)
                    self._process.join(timeout=5)
                except OSError:
                    pass
            self._kill()
        self._helpers.shutdown(wait=False)
