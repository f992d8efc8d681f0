"""The job store is private whatever the umask: data dir 0700, SQLite files (with -wal and -shm) and lock 0600."""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import Iterator

import numpy as np

import catterms as ct
from service.store import Store
from service.submission import Submission

FILES = ("lock", "jobs.sqlite3", "jobs.sqlite3-wal", "jobs.sqlite3-shm")


@contextlib.contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def write_a_job(store: Store) -> None:
    store.add(Submission.build(ct.prim("sin") >> ct.prim("sum"), np.ones(3)))


def test_a_new_store_is_private_under_a_permissive_umask(tmp_path):
    data = tmp_path / "new" / "data"
    with umask(0):
        store = Store(data)
        try:
            write_a_job(store)  # the write makes SQLite create -wal and -shm
            assert mode(data) == 0o700
            assert {name: mode(data / name) for name in FILES} == dict.fromkeys(FILES, 0o600)
        finally:
            store.close()


def test_an_existing_store_with_loose_modes_is_tightened(tmp_path):
    data = tmp_path / "data"
    Store(data).close()
    for name in FILES:
        (data / name).touch()  # as a killed process leaves -wal and -shm
        os.chmod(data / name, 0o666)
    os.chmod(data, 0o777)
    with umask(0):
        store = Store(data)
        try:
            write_a_job(store)
            assert mode(data) == 0o700
            assert {name: mode(data / name) for name in FILES} == dict.fromkeys(FILES, 0o600)
        finally:
            store.close()


def test_a_restrictive_umask_does_not_lock_the_service_out(tmp_path):
    with umask(0o777):
        store = Store(tmp_path / "data")
        try:
            write_a_job(store)
            assert mode(tmp_path / "data") == 0o700 and mode(tmp_path / "data" / "jobs.sqlite3") == 0o600
        finally:
            store.close()
