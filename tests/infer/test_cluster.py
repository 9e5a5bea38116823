"""Dask clients from --cluster / --scheduler, failing fast on a silent scheduler."""

import socket
import time

import pytest

from volseg.errors import VolsegError
from volseg.infer.cluster import get_client, parse_cluster


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_parse_cluster(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 4)
    assert parse_cluster("local:3") == 3
    assert parse_cluster("local:4") == 4
    for bad in ("local", "local:0", "local:-1", "slurm:4", "local:two", "local:5"):
        with pytest.raises(VolsegError, match="local:N"):
            parse_cluster(bad)
    with pytest.raises(VolsegError, match="5 local workers but this machine has 4 CPU cores"):
        parse_cluster("local:5")


def test_no_options_means_no_client_and_both_are_refused():
    assert get_client(None, None) is None
    with pytest.raises(VolsegError, match="not both"):
        get_client("local:1", "tcp://127.0.0.1:8786")


def test_silent_scheduler_fails_within_the_timeout():
    address = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    start = time.monotonic()
    with pytest.raises(VolsegError, match=f"no Dask scheduler answered at {address} within 1 s"):
        get_client(scheduler=address, timeout_s=1)
    assert time.monotonic() - start < 10


def test_bad_scheduler_address():
    with pytest.raises(VolsegError, match="scheduler"):
        get_client(scheduler="   ")


@pytest.mark.slow
def test_local_cluster_runs_tasks_and_closes():
    client = get_client("local:1")
    try:
        assert len(client.scheduler_info()["workers"]) == 1
        assert client.submit(sum, [1, 2, 3]).result() == 6
        env = client.run(lambda: __import__("os").environ.get("OMP_NUM_THREADS"))
        assert list(env.values())[0].isdigit()
    finally:
        cluster = client.cluster
        client.close()
    assert cluster.status.name == "closed"
