"""The one small interface (`FileStore`) behind which customers' stored files live, used by
key, and the threads its blocking calls run on."""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import ParamSpec, Protocol, TypeVar, runtime_checkable

P = ParamSpec("P")
T = TypeVar("T")
THREADS = 16
# Waiting on a bucket is not CPU work: store calls get threads of their own, so a slow store
# does not queue behind photo processing and PDF rendering in the event loop's default pool
# (cores + 4 threads), nor they behind it.
_POOL = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="walkaround-store")


class StoreError(OSError):
    """The store refused or could not be reached; nothing was stored. An OSError, so a
    bucket that is down reads to the photo upload like a disk that is."""


@dataclass(frozen=True)
class StoredFile:
    key: str
    size: int
    modified: datetime  # aware, UTC


@runtime_checkable  # Litestar checks what a dependency provides against its annotation
class FileStore(Protocol):
    """Files by key ("ab/cd/<sha256>-display.jpg"). Blocking calls: async code runs them
    through `call`."""

    def describe(self) -> str:
        """Where the files are, for the operator: a folder or s3://bucket/prefix."""

    def put(self, key: str, data: bytes) -> bool:
        """Make `key` hold exactly `data`, durably, or raise; False when it already did."""

    def get(self, key: str) -> bytes:
        """The file's bytes; FileNotFoundError when there is none."""

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Remove the file; a missing one is not an error."""

    def files(self) -> Iterator[StoredFile]:
        """Every finished file (never a write in progress)."""

    def check(self) -> tuple[bool, str]:
        """Whether files can be stored now, and a short word on why not (for /healthz)."""

    def verify(self) -> None:
        """At start-up: files can be stored, or a StoreError that says what to change."""


async def call(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a blocking store call (`store.get`, `store_photo`...) off the event loop."""
    context = contextvars.copy_context()  # the request id reaches the log, as to_thread does
    work = functools.partial(context.run, fn, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_POOL, work)
