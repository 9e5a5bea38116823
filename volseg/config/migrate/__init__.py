"""``volseg config migrate``: a PyTorch Connectomics config as a volseg config, with a report.

``migrate(path)`` reads a PyTC file of either schema (:mod:`.read_pytc`), applies the rule
table (:mod:`.rules`) and the consistency steps (:mod:`.reconcile`), checks the result with
:func:`volseg.config.loads` and returns it with one :class:`~.table.Row` per key that was
renamed, converted, dropped or could not be translated.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from volseg.config.migrate.detect import pointer, pytc_reason
from volseg.config.migrate.engine import translate
from volseg.config.migrate.read_pytc import is_staged, read_pytc, read_yaml
from volseg.config.migrate.reconcile import reconcile
from volseg.config.migrate.rules import RULES
from volseg.config.migrate.settle import settle
from volseg.config.migrate.table import ACTIONS, Row, counts, format_table
from volseg.errors import VolsegError

__all__ = ["ACTIONS", "Migration", "Row", "counts", "format_table", "migrate", "pointer",
           "pytc_reason", "write"]  # fmt: skip

_ORDER = ("experiment_name", "description", "system", "model", "data", "optimization",
          "monitor", "inference", "test", "tune")  # fmt: skip


class _Dumper(yaml.SafeDumper):
    """Safe YAML output that writes a repeated list twice instead of as an anchor."""

    def ignore_aliases(self, data: object) -> bool:
        return True


def _flat_list(dumper: yaml.SafeDumper, data: list) -> yaml.Node:
    """Lists of scalars, or of lists of scalars (multi-task rows), on one line."""
    short = all(
        not isinstance(v, dict | list)
        or (isinstance(v, list) and all(not isinstance(w, dict | list) for w in v))
        for v in data
    )
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=short or None)


_Dumper.add_representer(list, _flat_list)


@dataclass
class Migration:
    """A migrated config: the volseg tree, its YAML text, the rows and the PyTC schema."""

    config: dict
    text: str
    rows: list[Row]
    schema: str


def _volseg_keys_only(raw: dict, shown: str) -> bool:
    """Whether every key of ``raw`` is a volseg key (its problem is then a volseg one)."""
    from volseg.config.schema import Config
    from volseg.config.typecheck import check_section

    try:
        check_section({k: v for k, v in raw.items() if k != "_base_"}, Config, "", shown)
    except VolsegError:
        return False
    return True


def _kind(path: Path, shown: str) -> str:
    """``pytc``, or a one-sentence error for a volseg file or anything else."""
    raw = read_yaml(path, shown)
    if pytc_reason(raw) or (isinstance(raw, dict) and is_staged(raw)):
        return "pytc"
    if not isinstance(raw, dict) or not raw:
        raise VolsegError(f"{shown} is neither a PyTorch Connectomics nor a volseg config "
                          f"(it is not a mapping of sections).")  # fmt: skip
    from volseg.config import load

    try:
        load(path)
    except VolsegError as exc:
        if _volseg_keys_only(raw, shown):
            raise VolsegError(f"{shown} is a volseg config, not a PyTorch Connectomics one, "
                              f"and has an error: {exc}") from None  # fmt: skip
        known = [k for k in raw if k in RULES or any(r.startswith(f"{k}.") for r in RULES)]
        if known:
            return "pytc"
        raise VolsegError(
            f"{shown} is neither a PyTorch Connectomics nor a volseg config "
            f"(none of its sections {sorted(map(str, raw))} is known)."
        ) from None
    raise VolsegError(f"{shown} is already a volseg config (`volseg config check` accepts it); "
                      "there is nothing to migrate.")  # fmt: skip


def migrate(path: str | os.PathLike[str], out_dir: str | os.PathLike[str] | None = None
            ) -> Migration:  # fmt: skip
    """Migrate a PyTC config file.

    Args:
        path: the PyTC YAML file.
        out_dir: where the result will be written (relative paths in it resolve there);
            default: the folder of ``path``.

    Returns:
        The :class:`Migration`; its text passes ``volseg config check``.

    Raises:
        VolsegError: a missing file, bad YAML, a file that is not a PyTC config.
    """
    src, shown = Path(path), str(path)
    _kind(src, shown)
    flat, origin, rows, schema = read_pytc(src, shown)
    rep = translate(flat, origin)
    reconcile(rep)
    base = Path(out_dir) if out_dir is not None else src.parent
    text = ""
    try:
        settle(rep, lambda tree: _check(_text(tree, schema, src.name), shown, base))
        text = _text(rep.out, schema, src.name)
    except VolsegError as exc:
        raise VolsegError(
            f"migrating {shown} gave a config volseg refuses ({exc}); this is a "
            "bug in `volseg config migrate`, please report it."
        ) from None
    tree = {k: rep.out[k] for k in _ORDER if k in rep.out}
    return Migration(tree, text, rows + rep.rows, schema)


def _text(out: dict, schema: str, name: str) -> str:
    """The migrated tree as commented YAML, sections in volseg's order."""
    tree = {k: out[k] for k in _ORDER if k in out}
    header = (
        f"# Migrated from PyTorch Connectomics ({schema} schema): {name}\n"
        "# Relative data paths are kept as written: PyTC read them from its working directory,\n"
        "# volseg reads them from this file's folder.\n"
    )
    return header + yaml.dump(tree, Dumper=_Dumper, sort_keys=False, default_flow_style=None,
                              width=100)  # fmt: skip


def _check(text: str, shown: str, base: Path) -> None:
    """What `volseg config check` runs on the written file."""
    from volseg.config import loads
    from volseg.train.setup import check_without_data

    check_without_data(loads(text, source=shown, base_dir=base))


def write(migration: Migration, out: str | os.PathLike[str]) -> None:
    """Write the migrated YAML (never over the source; the caller checks)."""
    Path(out).write_text(migration.text, encoding="utf-8")
