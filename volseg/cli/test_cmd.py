"""``volseg test``: segment and score the config's test volumes (PyTorch Connectomics test mode)."""

from __future__ import annotations

from pathlib import Path

import typer


def test_command(
    config: Path = typer.Argument(..., help="YAML config with test.data / decoding / evaluation."),
    overrides: list[str] | None = typer.Argument(None, help="dotted.key=value overrides."),
    checkpoint: Path = typer.Option(..., "--checkpoint", help="Trained checkpoint (.pt)."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Output folder (default RUN/test)."),
    cluster: str | None = typer.Option(None, "--cluster", help="local:N Dask workers."),
    scheduler: str | None = typer.Option(None, "--scheduler", help="tcp://host:8786."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace earlier test outputs."),
) -> None:
    """Segment every test.data volume with test.decoding and score it with test.evaluation."""
    import torch

    from volseg.cli.scores_print import print_scores
    from volseg.config import load
    from volseg.infer.cluster import get_client
    from volseg.infer.testset import run_test

    cfg = load(config, overrides or [])
    torch.set_num_threads(max(1, int(cfg.system.inference.num_cpus)))
    client = get_client(cluster, scheduler)
    try:
        result = run_test(cfg, checkpoint, out_dir=out, client=client, overwrite=overwrite,
                          say=typer.echo)  # fmt: skip
    finally:
        if client is not None:
            client.close()
    for volume in result["volumes"]:
        if volume["metrics"] is not None:
            print_scores(volume["metrics"])
    typer.echo(f"scores: {result['path']}")


test_command.__test__ = False  # a CLI command, not a pytest test


def register(app: typer.Typer) -> None:
    """Add ``volseg test`` to the app."""
    app.command("test")(test_command)
