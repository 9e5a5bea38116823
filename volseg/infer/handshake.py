"""A bounded handshake with a Dask scheduler before ``distributed.Client`` connects to it.

``Client(address, timeout=...)`` hangs on a port that accepts the connection but never speaks
(an HTTP server waits for a request), and reads the first 8 bytes of anything else as a frame
length: HTTP bytes become a 3 EiB allocation and a ``MemoryError``. A Dask scheduler speaks
first: on connect it sends its handshake, an 8-byte little-endian length and a small msgpack
message naming its ``pickle-protocol`` and ``compression``. :func:`probe_scheduler` reads that
much within the timeout with a plain socket and checks it, so anything that is not a Dask
scheduler gets one sentence within the connect timeout.
"""

from __future__ import annotations

import re
import socket
import struct
import time

from volseg.errors import VolsegError

_ADDRESS = re.compile(r"^(?:tcp://)?(?P<host>\[[^\]]+\]|[^:/\s]+):(?P<port>\d+)/?$")
MAX_HANDSHAKE = 1 << 20  # a scheduler's handshake is ~60 bytes; anything huge is not Dask


def parse_tcp(address: str) -> tuple[str, int] | None:
    """``(host, port)`` of ``tcp://host:port`` / ``host:port``; None for other protocols."""
    match = _ADDRESS.match(address.strip())
    if not match:
        return None
    return match["host"].strip("[]"), int(match["port"])


class _Closed(Exception):
    """The peer closed the connection before sending a whole handshake."""


def _read(sock: socket.socket, n: int, deadline: float) -> bytes:
    data = b""
    while len(data) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        sock.settimeout(left)
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise _Closed("it closed the connection before a Dask handshake")
        data += chunk
    return data


def probe_scheduler(address: str, *, timeout_s: float) -> None:
    """Check within ``timeout_s`` seconds that a Dask scheduler answers at ``address``.

    Addresses of other protocols (``tls://``, ``ucx://``, ``inproc://``) are left to Dask.

    Raises:
        VolsegError: nothing listens, nothing answers in time, or the answer is not Dask's.
    """
    where = parse_tcp(address)
    if where is None:
        return
    deadline = time.monotonic() + timeout_s
    not_dask = (
        f"{address} answers but is not a Dask scheduler ({{}}); check the host and port of "
        "the scheduler (dask scheduler prints its address, usually tcp://host:8786)."
    )
    try:
        with socket.create_connection(where, timeout=timeout_s) as sock:
            (size,) = struct.unpack("<Q", _read(sock, 8, deadline))
            if not 0 < size <= MAX_HANDSHAKE:
                raise VolsegError(not_dask.format(f"its first bytes announce {size} bytes"))
            body = _read(sock, size, deadline)
    except TimeoutError:
        raise VolsegError(
            not_dask.format(f"it sent no Dask handshake within {timeout_s:g} s")
        ) from None
    except _Closed as exc:
        raise VolsegError(not_dask.format(str(exc))) from None
    except OSError as exc:
        raise VolsegError(
            f"no Dask scheduler answered at {address} within {timeout_s:g} s "
            f"({exc.strerror or type(exc).__name__})."
        ) from None
    if b"pickle-protocol" not in body:
        raise VolsegError(not_dask.format("its first message is not a Dask handshake"))
