"""A Dask client from ``--cluster local:N`` or ``--scheduler tcp://host:port``.

``local:N`` starts a ``LocalCluster`` of N worker processes with one thread each (PyTorch's
own threads share the cores: ``OMP_NUM_THREADS`` is set to cores / N) that closes with the
client; a scheduler address connects to a running cluster and fails within ``timeout_s``
seconds when nothing answers. On a machine with CUDA every local worker offers one ``GPU``
resource, which GPU prediction tasks ask for.
"""

from __future__ import annotations

import logging
import os
import re
from typing import Any

from volseg.errors import VolsegError

_LOCAL = re.compile(r"^local:(\d+)$")


def parse_cluster(text: str) -> int:
    """Workers of a ``local:N`` cluster spec."""
    match = _LOCAL.match(text.strip())
    if not match or int(match[1]) < 1:
        raise VolsegError(f"--cluster takes local:N with N >= 1 workers, got {text!r}.")
    return int(match[1])


def get_client(
    cluster: str | None = None, scheduler: str | None = None, *, timeout_s: float = 5
) -> Any:
    """A ``distributed.Client``, or ``None`` when neither option is given.

    Args:
        cluster: ``local:N`` to start N local worker processes.
        scheduler: address of a running scheduler, e.g. ``tcp://10.0.0.5:8786``.
        timeout_s: seconds to wait for the scheduler to answer.

    Raises:
        VolsegError: both options, a bad spec, or a scheduler that does not answer.
    """
    if cluster is not None and scheduler is not None:
        raise VolsegError("give --cluster or --scheduler, not both.")
    if cluster is None and scheduler is None:
        return None
    from distributed import Client

    if cluster is not None:
        workers = parse_cluster(cluster)
        import torch

        threads = max(1, (os.cpu_count() or 1) // workers)
        resources = {"GPU": 1} if torch.cuda.is_available() else None
        return Client(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            resources=resources,
            silence_logs=logging.ERROR,  # task errors reach the client; no shutdown chatter
            env={"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)},
        )
    if not isinstance(scheduler, str) or not scheduler.strip():
        raise VolsegError(f"--scheduler takes an address like tcp://host:8786, got {scheduler!r}.")
    from volseg.infer.handshake import probe_scheduler

    probe_scheduler(scheduler, timeout_s=timeout_s)
    try:
        return Client(scheduler, timeout=timeout_s)
    except (OSError, TimeoutError) as exc:
        raise VolsegError(
            f"no Dask scheduler answered at {scheduler} within {timeout_s:g} s "
            f"({type(exc).__name__})."
        ) from None
    except ValueError as exc:
        raise VolsegError(f"bad Dask scheduler address {scheduler!r}: {exc}.") from None
    except MemoryError:  # a frame length read from bytes that were not Dask's
        raise VolsegError(f"{scheduler} answered, but not as a Dask scheduler.") from None
