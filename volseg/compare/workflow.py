"""``compare(entries, out)``: train or collect runs, check they are comparable, write the report.

Every entry is a config file (trained now) or a finished run directory (collected). Configs
train with one seed (``system.seed``) and one number of optimizer steps
(``optimization.max_steps`` and ``max_epochs`` both set to it, so the schedule's length is the
steps), all on one ``split.json``: ``split``, else the first collected run's, else the split
of the first config (made once, before any training, and reused by all).

Everything that can be checked before training is: the output path, the metric, every
collected run against the others (split, seed, steps, metric), every config's volumes against
the shared split and whether it computes the metric. The checks run again on all runs before
``out`` is written; ``out`` appears complete (``table.md``, ``table.csv``, ``curves.png``) or
not at all.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from volseg.atomic import staged
from volseg.compare import plot, table
from volseg.compare.runs import (
    Run,
    check_comparable,
    collect,
    is_run_dir,
    name_runs,
    resolve_metric,
    split_difference,
)
from volseg.errors import VolsegError
from volseg.train import run_dir as rd
from volseg.train.names import FULL_METRICS

FILES = ("table.md", "table.csv", "curves.png")


def compare(
    entries: Sequence[str | Path],
    out: str | Path,
    *,
    split: str | Path | None = None,
    steps: int | None = None,
    seed: int | None = None,
    metric: str = "val_iou",
    smooth: int = 5,
    run_root: str | Path = "runs",
    overwrite: bool = False,
    progress: bool | None = False,
    echo: Callable[[str], None] | None = None,
) -> Path:
    """Compare configs (trained now) and finished runs (collected); write ``out``.

    Args:
        entries: config files and run directories, in the order of the table.
        out: the output folder (``table.md``, ``table.csv``, ``curves.png``).
        split: a ``split.json`` every config trains on (and every collected run must have).
        steps: optimizer steps of every run (default: the first collected run's, else the
            first config's ``optimization.max_steps``).
        seed: ``system.seed`` of every run (default: the first entry's).
        metric: the compared value (a logged name or an alias such as ``val_iou``).
        smooth: window of the trailing moving average of the curves.
        run_root: where configs' run directories go (as ``volseg fit --runs``).
        overwrite: replace an earlier comparison at ``out``.
        progress: progress bars while training.
        echo: where to print notes (which run trains, where it went).

    Returns:
        ``out``.

    Raises:
        VolsegError: runs that are not comparable (one sentence naming two runs and what
            differs), bad input, or an existing ``out`` without ``overwrite``.
    """
    say = echo or (lambda _text: None)
    out = Path(out)
    name = resolve_metric(metric)
    if smooth < 1:
        raise VolsegError(f"--smooth must be a positive number of points, got {smooth}.")
    _check_out(out, entries, overwrite=overwrite)
    kinds = [_kind(Path(e)) for e in entries]
    collected = {i: collect(e) for i, (e, k) in enumerate(zip(entries, kinds, strict=True))
                 if k == "run"}  # fmt: skip
    if collected:
        check_comparable(list(collected.values()), name)
    first = next(iter(collected.values()), None)
    if split is not None and first is not None:
        _check_split_file(Path(split), first)
    configs = [Path(e) for e, k in zip(entries, kinds, strict=True) if k == "config"]
    trained: list[Run] = []
    if configs:
        trained = _train(configs, first, name, split=split, steps=steps, seed=seed,
                         run_root=run_root, progress=progress, say=say)  # fmt: skip
    it = iter(trained)
    runs = [collected[i] if i in collected else next(it) for i in range(len(entries))]
    name_runs(runs)
    check_comparable(runs, name)
    header, rows = table.rows(runs, name)
    with staged(out, overwrite=overwrite, what=f"--out {out}") as tmp:
        tmp.mkdir()
        (tmp / FILES[0]).write_text(table.to_markdown(header, rows), encoding="utf-8")
        (tmp / FILES[1]).write_text(table.to_csv(header, rows), encoding="utf-8")
        plot.save_curves(tmp / FILES[2], runs, name, window=smooth)
    return out


def _kind(path: Path) -> str:
    if is_run_dir(path):
        return "run"
    if path.is_file():
        return "config"
    raise VolsegError(f"{path} is neither a config file nor a run directory (with {rd.CONFIG}).")


def _check_out(out: Path, entries: Sequence[Any], *, overwrite: bool) -> None:
    from volseg.atomic import refuse_existing
    from volseg.io.guard import refuse_overlap

    refuse_overlap(out, {f"entry {e}": e for e in entries}, option="--out")
    refuse_existing(out, overwrite=overwrite, what=f"--out {out}")
    if out.exists() and not (out.is_dir() and all((out / f).is_file() for f in FILES[:2])):
        raise VolsegError(
            f"--out {out} exists and is not an earlier comparison (no {FILES[0]} and {FILES[1]}); "
            "--overwrite replaces only what volseg compare wrote."
        )


def _check_split_file(path: Path, run: Run) -> None:
    import json

    try:
        given = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise VolsegError(f"cannot read --split {path}: {exc}.") from None
    diff = split_difference(given, run.split)
    if diff is not None:
        raise VolsegError(
            f"--split {path} and run {run.run_dir} are different splits ({diff}); compare runs "
            "of one split.json."
        )


def _train(
    configs: list[Path], first: Run | None, metric: str, *, split: Any, steps: int | None,
    seed: int | None, run_root: Any, progress: bool | None, say: Callable[[str], None],
) -> list[Run]:  # fmt: skip
    """Check every config against the shared split, then train them one after the other."""
    from volseg.config import load
    from volseg.data.split import make_split
    from volseg.train import fit

    plain = load(configs[0])
    seed = _pick(seed, first.seed if first else plain.system.seed, "--seed", first)
    if seed is None:
        seed = 0
        say(f"{configs[0]} sets no system.seed: every config trains with seed 0")
    steps = _pick(steps, first.steps if first else plain.optimization.max_steps, "--steps", first)
    if steps is None:
        raise VolsegError(
            f"give --steps N: {configs[0]} sets no optimization.max_steps and no finished run "
            "says how long to train."
        )
    overrides = [f"system.seed={seed}", f"optimization.max_steps={steps}",
                 f"optimization.max_epochs={steps}"]  # fmt: skip
    cfgs = [load(c, overrides) for c in configs]
    for path, cfg in zip(configs, cfgs, strict=True):
        if metric in FULL_METRICS and int(cfg.monitor.full_val_every_n_epochs) == 0:
            raise VolsegError(
                f"{path} never computes {metric} (monitor.full_val_every_n_epochs is 0); set it "
                "to a positive number of epochs or compare another --metric."
            )
    with tempfile.TemporaryDirectory(prefix="volseg-compare-") as tmp:
        if split is None and first is not None:
            split = first.run_dir / rd.SPLIT
        if split is None:
            split = Path(tmp) / rd.SPLIT
            make_split(cfgs[0]).to_json(split)
        for path, cfg in zip(configs, cfgs, strict=True):
            try:
                make_split(cfg, reuse=split)
            except VolsegError as exc:
                raise VolsegError(f"{path} cannot train on the shared split: {exc}") from None
        runs = []
        for path, cfg in zip(configs, cfgs, strict=True):
            say(f"training {path} ({steps} steps, seed {seed})")
            run_dir = fit(cfg, split=split, run_root=run_root, progress=progress, echo=say)
            say(f"{path} -> {run_dir}")
            runs.append(collect(run_dir))
    return runs


def _pick(given: Any, default: Any, option: str, first: Run | None) -> Any:
    """``given`` when set (it must match the collected runs), else ``default``."""
    if given is None:
        return default
    if first is not None:
        have = first.seed if option == "--seed" else first.steps
        if given != have:
            raise VolsegError(
                f"{option} {given} differs from run {first.run_dir} ({have}); the configs must "
                "train like the runs they are compared with."
            )
    return given
