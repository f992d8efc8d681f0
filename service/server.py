"""Running the service: the listening socket, uvicorn, and the rules for where it may listen.

``catterms serve`` (:func:`service.cli.cmd_serve`) refuses a non-loopback address without a token
(:func:`check_exposure`), opens (and locks) the store before starting any cluster, starts the executor, and
serves until SIGINT/SIGTERM; a tokens file is read again on SIGHUP (:func:`reload_on_sighup`).
:func:`running` serves the same app from a background thread, for ``catterms demo`` and tests.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import signal
import socket
import threading
import time
from contextlib import contextmanager
from typing import Any, Iterator

import uvicorn

from .app import Service
from .owners import Tokens


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (``localhost``, ``127.0.0.0/8``, ``::1``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve anywhere


def check_exposure(host: str, guarded: bool) -> None:
    """Refuse to listen beyond this machine unless callers need a token (``guarded``)."""
    if not guarded and not is_loopback(host):
        raise SystemExit(
            f"catterms serve: refusing to listen on {host} without a token; set --token (or CATTERMS_TOKEN) or "
            "--tokens FILE (tokens are optional only on loopback addresses)"
        )


def reload_on_sighup(tokens: Tokens) -> None:
    """Read the tokens file again on SIGHUP (``kill -HUP``); a bad file keeps the old tokens, and says why."""
    signal.signal(signal.SIGHUP, lambda *_: tokens.reload())


def bind(host: str, port: int) -> socket.socket:
    """A listening socket (``port=0`` picks a free port; read it back with ``getsockname``)."""
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    # proto=IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say so, and without it a
    # response written as headers then body waits ~40 ms for a delayed ACK on every kept-alive request.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host.strip("[]"), port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def dashboard(link: str | None) -> str:
    """How to reach the Dask dashboard, for people (never sent through the API)."""
    if link is None:
        return "none (the cluster runs without one)"
    if importlib.util.find_spec("bokeh") is None:
        return f"{link} (install bokeh to see it)"
    return link


def url_of(sock: socket.socket, https: bool = False) -> str:
    host, port = sock.getsockname()[:2]
    return f"{'https' if https else 'http'}://{f'[{host}]' if ':' in host else host}:{port}"


#: Seconds an idle kept-alive connection stays open. uvicorn's default, 5 s, is as long as httpx keeps one
#: (so the two race) and far shorter than http.client or curl keep one (without end): a request sent on a
#: connection the server has just closed is lost (RemoteDisconnected), and under load, where a client's
#: pause between requests stretches past 5 s, often. Longer than httpx's expiry, the client closes first.
KEEP_ALIVE_S = 120


def server(service: Service, **ssl: Any) -> uvicorn.Server:
    """A uvicorn server for ``service`` (access log off: it costs more than a tiny job's own handling)."""
    config = uvicorn.Config(
        service.app, log_level="warning", access_log=False, lifespan="on", timeout_graceful_shutdown=5,
        timeout_keep_alive=KEEP_ALIVE_S, **ssl
    )
    return uvicorn.Server(config)


@contextmanager
def running(service: Service, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``service`` from a background thread; yields its URL once it accepts requests."""
    sock = bind(host, port)
    srv = server(service)
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, name="catterms-http", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not srv.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the catterms service did not start; see the log above")
            time.sleep(0.02)
        yield url_of(sock)
    finally:
        srv.should_exit = True
        thread.join(timeout=30)
        sock.close()
