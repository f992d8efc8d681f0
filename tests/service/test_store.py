"""The SQLite job store: transitions, deduplication, persistence across reopening, the data-dir lock."""

from __future__ import annotations

import pytest

from service.store import CANCELLED, DONE, FAILED, QUEUED, RUNNING, Store, Stored
from service.submission import Submission


def sub(x: bytes = b"x", **kw) -> Submission:
    return Submission(term=b"term", x=x, **kw)


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path)
    yield s
    s.close()


def test_add_then_get(store):
    row, created = store.add(sub(), now=10.0)
    assert created and row.state == QUEUED and row.created == 10.0 and row.attempts == 0
    assert store.get(row.id) == row
    assert store.get("nope") is None
    assert store.submission(row.id) == sub()


def test_identical_submissions_share_a_job_until_it_fails(store):
    a, _ = store.add(sub())
    b, created = store.add(sub())
    assert not created and b.id == a.id
    c, created = store.add(sub(mode="value"))
    assert created and c.id != a.id, "a different mode is a different job"
    assert store.start(a.id) and store.fail(a.id, "evaluation_error", "boom")
    d, created = store.add(sub())
    assert created and d.id != a.id, "a failed job is not reused"


def test_digest_separates_fields():
    # moving bytes between fields must change the hash (length-prefixed parts)
    assert Submission(b"ab", b"c").digest != Submission(b"a", b"bc").digest
    assert Submission(b"t", b"x", "jvp", tangent=b"").digest != Submission(b"t", b"x", "jvp").digest
    assert Submission(b"t", b"x", baseline=True).digest != Submission(b"t", b"x").digest


def test_lifecycle_and_result(store):
    row, _ = store.add(sub())
    report = {"tasks": 3, "wall_s": 0.5}
    assert store.start(row.id, now=1.0)
    assert not store.start(row.id), "only a queued job starts"
    assert store.finish(row.id, Stored(b"v", b"d", report), now=2.0)
    done = store.get(row.id)
    assert (done.state, done.started, done.finished, done.attempts, done.tasks) == (DONE, 1.0, 2.0, 1, 3)
    assert store.result(row.id) == Stored(b"v", b"d", report)
    assert not store.cancel(row.id) and not store.fail(row.id, "x", "y"), "a finished job stays finished"


def test_cancel_wins_over_a_late_finish(store):
    row, _ = store.add(sub())
    store.start(row.id)
    assert store.cancel(row.id)
    assert not store.finish(row.id, Stored(b"v", None, {}))
    assert store.get(row.id).state == CANCELLED and store.result(row.id) is None


def test_failure_keeps_its_reason(store):
    row, _ = store.add(sub())
    assert store.fail(row.id, "timeout", "too slow")
    failed = store.get(row.id)
    assert (failed.state, failed.error_code, failed.error_message) == (FAILED, "timeout", "too slow")
    assert failed.to_dict()["error"] == {"code": "timeout", "message": "too slow"}


def test_page_newest_first_with_cursor_and_state(store):
    ids = [store.add(sub(bytes([i])))[0].id for i in range(7)]
    store.start(ids[2])
    first = store.page(3)
    assert [r.id for r in first] == ids[::-1][:3]
    second = store.page(3, before=first[-1].seq)
    assert [r.id for r in second] == ids[::-1][3:6]
    assert [r.id for r in store.page(10, state=RUNNING)] == [ids[2]]
    assert store.counts() == {QUEUED: 6, RUNNING: 1, DONE: 0, FAILED: 0, CANCELLED: 0}


def test_reopen_keeps_everything_and_lists_unfinished(tmp_path):
    s = Store(tmp_path)
    a, _ = s.add(sub(b"a"))
    b, _ = s.add(sub(b"b"))
    c, _ = s.add(sub(b"c"))
    s.start(a.id)
    s.start(c.id)
    s.finish(c.id, Stored(b"v", None, {"tasks": 1}))
    s.close()
    s = Store(tmp_path)
    try:
        assert [(r.id, r.state) for r in s.unfinished()] == [(a.id, RUNNING), (b.id, QUEUED)]
        assert s.result(c.id).value == b"v"
        assert s.requeue(a.id) and s.get(a.id).state == QUEUED and s.get(a.id).attempts == 1
    finally:
        s.close()


def test_a_second_store_on_the_same_dir_is_refused(store, tmp_path):
    with pytest.raises(RuntimeError, match="another catterms service"):
        Store(tmp_path)
