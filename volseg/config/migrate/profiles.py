"""Spell out PyTorch Connectomics 2026 profiles when their tables are in the included files.

A 2026 file selects named bundles of settings (``default.pipeline_profile: binary``,
``model.loss.profile: loss_binary`` ...) defined in top-level ``*_profiles`` tables, usually
pulled in through ``_base_: all_profiles.yaml``. PyTC merges the selected bundle into a target
section, the file's own keys winning, in a fixed family order; decoding steps written as
``{template: name}`` expand from ``decoding_templates``. This module does the same on the plain
tree; selectors whose table is absent stay for the rule table to report.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from volseg.config.migrate.read_pytc import merge
from volseg.config.migrate.table import Row

_ALL = ("default", "train", "test", "tune")
_TRAIN = ("default", "train")
#: (table, stages, selector below the stage, target below the stage), in PyTC's order.
FAMILIES: tuple[tuple[str, tuple[str, ...], str, str], ...] = (
    ("pipeline_profiles", ("default",), "pipeline_profile", ""),
    ("system_profiles", _ALL, "system.profile", "system"),
    ("arch_profiles", _ALL, "model.arch.profile", "model"),
    ("augmentation_profiles", _TRAIN, "data.augmentation.profile", "data.augmentation"),
    ("dataloader_profiles", _ALL, "data.dataloader.profile", "data.dataloader"),
    ("optimizer_profiles", _TRAIN, "optimization.profile", "optimization"),
    ("loss_profiles", _TRAIN, "model.loss.profile", "model.loss"),
    ("label_profiles", _TRAIN, "data.label_transform.profile", "data.label_transform"),
    ("activation_profiles", ("default", "test", "tune"), "inference.model.activation_profile",
     "inference.model"),
    ("tune_profiles", ("tune",), "profile", ""),
)  # fmt: skip
_TEMPLATES = "decoding_templates"


def _parent(tree: dict[str, Any], dotted: str, create: bool) -> tuple[dict | None, str]:
    *parts, last = dotted.split(".")
    node: Any = tree
    for part in parts:
        if not isinstance(node, dict):
            return None, last
        if part not in node and create:
            node[part] = {}
        node = node.get(part)
    return (node if isinstance(node, dict) else None), last


def _get(tree: dict[str, Any], dotted: str) -> Any:
    node, last = _parent(tree, dotted, create=False)
    return node.get(last) if node is not None else None


def _select(tree: dict[str, Any], dotted: str, table: Mapping[str, Any]) -> Any:
    """Pop a selector whose profile exists; None otherwise (left for the rules)."""
    node, last = _parent(tree, dotted, create=False)
    name = node.get(last) if node is not None else None
    if not isinstance(name, str) or name not in table:
        return None
    del node[last]
    return name


def _apply_at(tree: dict[str, Any], target: str, payload: Any) -> None:
    if not target:
        tree.update(merge(copy.deepcopy(payload), tree))
        return
    node, last = _parent(tree, target, create=True)
    assert node is not None
    existing = node.get(last)
    if isinstance(existing, Mapping) and isinstance(payload, Mapping):
        node[last] = merge(copy.deepcopy(payload), existing)
    elif existing is None:
        node[last] = copy.deepcopy(payload)


def _expand_templates(steps: list[Any], table: Mapping[str, Any]) -> list[Any]:
    out: list[Any] = []
    for step in steps:
        name = step.get("template") if isinstance(step, Mapping) else None
        if name not in table:
            out.append(step)
            continue
        body = table[name]
        items = body.get("steps", body) if isinstance(body, Mapping) else body
        extra = {k: v for k, v in step.items() if k != "template"}
        if extra and isinstance(items, list) and items:
            out.append(merge(copy.deepcopy(items[0]), extra))
        elif isinstance(items, list):
            out.extend(copy.deepcopy(items))
    return out


def resolve_profiles(tree: dict[str, Any], rows: list[Row]) -> dict[str, Any]:
    """``tree`` with every selectable profile merged in and the tables removed.

    Args:
        tree: a 2026 staged tree, includes already merged.
        rows: gets one ``converted`` row per profile spelled out.
    """
    tree = copy.deepcopy(tree)
    for table_key, stages, selector, target in FAMILIES:
        table = tree.get(table_key)
        if not isinstance(table, Mapping):
            continue
        for stage in stages:
            stage_tree = tree.get(stage)
            if not isinstance(stage_tree, dict):
                continue
            name = _select(stage_tree, selector, table)
            if name is None:
                continue
            _apply_at(stage_tree, target, table[name])
            rows.append(Row(f"{stage}.{selector}", "converted", f"{stage}.{target}".rstrip("."),
                            f"profile {name!r} from {table_key} spelled out (the file's own "
                            "keys win)"))  # fmt: skip
    templates = tree.get(_TEMPLATES)
    if isinstance(templates, Mapping):
        for stage in ("", *_ALL):
            at = f"{stage}.decoding.steps" if stage else "decoding.steps"
            steps = _get(tree, at)
            if isinstance(steps, list):
                node, last = _parent(tree, at, create=False)
                assert node is not None
                node[last] = _expand_templates(steps, templates)
    for key in [k for k in tree if str(k).endswith(("_profiles", "_templates"))]:
        rows.append(Row(str(key), "dropped", "", "same effect by default: profile definitions, "
                        "spelled out where the file selects them"))  # fmt: skip
        del tree[key]
    return tree
