"""A bounded handshake: anything that is not a Dask scheduler is one sentence within the timeout."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from http.server import HTTPServer, SimpleHTTPRequestHandler

import pytest

from volseg.errors import VolsegError
from volseg.infer.cluster import get_client
from volseg.infer.handshake import parse_tcp, probe_scheduler


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tcp://127.0.0.1:8786", ("127.0.0.1", 8786)),
        ("10.0.0.5:8786", ("10.0.0.5", 8786)),
        ("tcp://[::1]:8786", ("::1", 8786)),
        ("tls://host:8786", None),
        ("inproc://x", None),
    ],
)
def test_parse_tcp(text, expected):
    assert parse_tcp(text) == expected


def _serve(server) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread


def test_an_http_server_is_refused_within_the_timeout():
    server = HTTPServer(("127.0.0.1", 0), SimpleHTTPRequestHandler)
    _serve(server)
    address = f"tcp://127.0.0.1:{server.server_address[1]}"
    try:
        start = time.monotonic()
        with pytest.raises(VolsegError, match=r"answers but is not a Dask scheduler \(it sent no "
                           r"Dask handshake within 1 s\)"):  # fmt: skip
            get_client(scheduler=address, timeout_s=1)
        assert time.monotonic() - start < 3
    finally:
        server.shutdown()
        server.server_close()


def test_a_server_that_talks_first_in_http_is_refused():
    listener = socket.create_server(("127.0.0.1", 0))

    def banner():
        conn, _ = listener.accept()
        conn.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n")
        time.sleep(0.5)
        conn.close()

    threading.Thread(target=banner, daemon=True).start()
    address = f"tcp://127.0.0.1:{listener.getsockname()[1]}"
    try:
        with pytest.raises(
            VolsegError, match=r"is not a Dask scheduler \(its first bytes announce"
        ):
            probe_scheduler(address, timeout_s=2)
    finally:
        listener.close()


def test_a_closed_port_is_no_scheduler():
    with pytest.raises(VolsegError, match="no Dask scheduler answered at tcp://127.0.0.1:9"):
        probe_scheduler("tcp://127.0.0.1:9", timeout_s=1)


def test_a_real_scheduler_passes_the_handshake():
    from distributed import Scheduler

    async def main():
        async with Scheduler(port=0, dashboard_address=":0") as scheduler:
            loop = asyncio.get_running_loop()
            address = scheduler.address
            await loop.run_in_executor(None, lambda: probe_scheduler(address, timeout_s=5))

    asyncio.run(main())
