"""Owners: several tokens, each naming an owner; callers see only their own jobs, admins see all.

The tokens file's rules, the API in-process (a real SQLite file, the shared cluster), a store written
before owners existed, and a real ``catterms serve --tokens FILE`` process reloading its file on SIGHUP.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import time

import httpx
import numpy as np
import pytest

import catterms as ct
from service import AsyncClient, Client, NotFound, Unauthorized
from service.cli import main
from service.owners import DEFAULT_OWNER, Caller, Tokens, TokensFileError, parse
from service.store import _SCHEMA, Store
from service.submission import Submission

F = ct.compose(ct.prim("sum"), ct.prim("sin"))
X = np.linspace(-1.0, 1.0, 5)

TOKENS = """\
# owner  token               role
alice    alice-t0ken-1234    # a comment after the words
alice    alice-second-token
bob      bob-t0ken-5678
ops      ops-t0ken-9abc      admin
"""


def test_the_tokens_file_is_read_as_documented():
    table = Tokens(parse(TOKENS))
    assert table.caller(b"Bearer alice-t0ken-1234") == table.caller(b"bearer alice-second-token") == Caller("alice")
    assert table.caller(b"BEARER ops-t0ken-9abc") == Caller("ops", admin=True)
    for header in (b"", b"Bearer", b"Bearer wrong", b"Basic bob-t0ken-5678", b"bob-t0ken-5678", b"Bearer bob-t0ken"):
        assert table.caller(header) is None, header
    assert Tokens.single("s3cret").caller(b"Bearer s3cret") == Caller(DEFAULT_OWNER)
    for text, message in [
        ("alice", "line 1: expected 'owner token'"),
        ("\nalice tok superuser", "line 2: expected 'owner token' or 'owner token admin'"),
        ("alice tok admin extra", "got 4 words"),
        ("alice tok\nbob tok", "line 2: this token is already 'alice''s"),
        ("al/ice tok", "owner names are"),
        ("alice tök", "printable ASCII"),
        ("# nobody\n\n", "holds no tokens"),
    ]:
        with pytest.raises(TokensFileError, match=message):
            parse(text, "tokens.txt")


def test_token_and_tokens_exclude_each_other_and_a_bad_file_stops_serve_at_once(tmp_path, capsys):
    bad = tmp_path / "tokens"
    bad.write_text("alice\n")
    with pytest.raises(SystemExit):
        main(["serve", "--token", "x", "--tokens", str(bad)])
    assert "not allowed with argument" in capsys.readouterr().err
    assert main(["serve", "--tokens", str(bad), "--data-dir", str(tmp_path / "data")]) == 1
    assert f"{bad}, line 1: expected 'owner token'" in capsys.readouterr().err
    assert main(["serve", "--tokens", str(tmp_path / "missing")]) == 1
    assert "cannot read the tokens file" in capsys.readouterr().err


@pytest.mark.anyio
async def test_owners_see_and_cancel_only_their_own_jobs_and_admins_see_all(in_process, slow_term):
    async with in_process(tokens=Tokens(parse(TOKENS))) as nobody:
        transport = httpx.ASGITransport(nobody.service.app)
        clients = {who: AsyncClient("http://service", token, transport=transport) for who, token in
                   (("alice", "alice-t0ken-1234"), ("alice again", "alice-second-token"), ("bob", "bob-t0ken-5678"),
                    ("ops", "ops-t0ken-9abc"))}
        alice, alice_again, bob, ops = clients.values()
        try:
            with pytest.raises(Unauthorized):
                await nobody.jobs()
            mine = await alice.submit(F, X)
            theirs = await bob.submit(F, X)
            assert theirs.id != mine.id and not theirs.info["deduplicated"], "deduplication is per owner"
            assert (await alice.submit(F, X)).id == mine.id, "the same owner's identical job is found again"
            assert (await alice_again.submit(F, X)).id == mine.id, "an owner's other token is the same owner"
            assert mine.info["owner"] == "alice" and theirs.info["owner"] == "bob"
            await mine.result(timeout=60)
            await theirs.result(timeout=60)

            missing = await nobody._http.request("GET", "/v1/jobs/0123456789abcdef",
                                                 headers={"Authorization": "Bearer bob-t0ken-5678"})
            for method, path in (("GET", ""), ("GET", "/result"), ("GET", "/report"), ("POST", "/cancel")):
                r = await bob._http.request(method, f"/v1/jobs/{mine.id}{path}")
                assert r.status_code == 404 == missing.status_code, (method, path)
                assert r.json() == {**missing.json(), "message": f"no job {mine.id!r}"}, "as if there were none"
            with pytest.raises(NotFound):
                await bob.job(mine.id)
            assert [j.id for j in await bob.jobs()] == [theirs.id]
            assert {j.id for j in await ops.jobs()} == {mine.id, theirs.id}, "an admin sees every job"
            assert (await (await ops.job(mine.id)).status())["state"] == "done"

            running = await bob.submit(slow_term(75), np.array([0.1, 0.2, 0.3]), mode="value")
            with pytest.raises(NotFound):
                await alice.job(running.id)
            r = await alice._http.request("POST", f"/v1/jobs/{running.id}/cancel")
            assert r.status_code == 404
            assert (await running.status())["state"] in ("queued", "running"), "alice could not cancel it"
            assert (await (await ops.job(running.id)).cancel())["state"] == "cancelled", "an admin can"
        finally:
            for client in clients.values():
                await client.aclose()


def test_a_store_from_before_owners_is_migrated_and_its_jobs_are_the_single_owners(tmp_path):
    old = tmp_path / "data"
    old.mkdir()
    db = sqlite3.connect(old / "jobs.sqlite3")
    db.executescript(_SCHEMA)  # what every version before owners created
    db.execute("INSERT INTO jobs (id, digest, state, mode, baseline, created) VALUES "
               "('00000000000000aa', ?, 'queued', 'grad', 0, 1.0)", (Submission.build(F, X).digest,))
    db.commit()
    db.close()
    store = Store(old)
    try:
        row = store.get("00000000000000aa")
        assert row.owner == DEFAULT_OWNER
        assert store.add(Submission.build(F, X))[0].id == row.id, "the single owner's old job is found again"
        assert store.add(Submission.build(F, X), owner="alice")[1], "another owner's submission is a new job"
        assert [r.id for r in store.page(10, owner=DEFAULT_OWNER)] == [row.id]
    finally:
        store.close()
    assert Store(old).get(row.id).owner == DEFAULT_OWNER, "migrating twice changes nothing"


def _wait_until(check, limit: float = 20.0) -> None:
    deadline = time.monotonic() + limit
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_a_real_service_reloads_its_tokens_on_sighup_and_keeps_them_when_the_file_is_bad(start_server, tmp_path):
    tokens = tmp_path / "tokens"
    tokens.write_text(TOKENS)
    server = start_server("--workers", "1", "--tokens", str(tokens))
    with Client(server.url, "alice-t0ken-1234") as alice:
        job = alice.submit(F, X, mode="value")
        job.result(timeout=60)
    with Client(server.url, "carol-t0ken-0000") as carol, pytest.raises(Unauthorized):
        carol.jobs()

    tokens.write_text("alice alice-t0ken-1234\ncarol carol-t0ken-0000\n")  # carol in, bob out
    os.kill(server.proc.pid, signal.SIGHUP)

    def allowed(token: str) -> bool:
        return httpx.get(f"{server.url}/v1/jobs", headers={"Authorization": f"Bearer {token}"}).status_code == 200

    _wait_until(lambda: allowed("carol-t0ken-0000"))
    assert not allowed("bob-t0ken-5678") and not allowed("ops-t0ken-9abc")
    with Client(server.url, "alice-t0ken-1234") as alice, Client(server.url, "carol-t0ken-0000") as carol:
        assert [j.id for j in alice.jobs()] == [job.id] and carol.jobs() == []

    tokens.write_text("carol\n")  # unusable: the tokens in force stay
    os.kill(server.proc.pid, signal.SIGHUP)
    log = tmp_path / "data-server.log"
    _wait_until(lambda: "tokens not reloaded" in log.read_text())
    assert "line 1: expected 'owner token'" in log.read_text()
    assert allowed("carol-t0ken-0000") and allowed("alice-t0ken-1234")
    assert server.stop() == 0
