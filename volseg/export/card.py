"""The model card: what an export needs that no config or checkpoint records.

A small YAML file, ``model_card.yaml`` in the run directory (found there by itself) or any file
given with ``--card``. Every key is optional; unknown keys are errors::

    name: Lucchi++ mitochondria 2D U-Net     # letters, digits, spaces and _+-() only
    description: One or two sentences.       # default: the config's description
    version: 0.1.0
    license: MIT                             # an SPDX identifier, for the weights
    authors: [{name: A. Person, affiliation: Somewhere, orcid: 0000-0000-0000-0000}]
    maintainers: [{github_user: someone}]
    tags: [mitochondria]
    cite:                                    # the data's and the method's papers
      - {text: "Lucchi et al. 2012, IEEE TMI", doi: 10.1109/TMI.2011.2171705}
      - {text: "A web page", url: "https://example.com/page"}
    documentation: |                         # Markdown added to the package's README
      ## Intended use
      ...

``authors``, ``maintainers`` and ``cite`` entries take the fields of the BioImage Model Zoo
spec (``name``, ``affiliation``, ``email``, ``orcid``, ``github_user``; ``text``, ``doi``,
``url``). A consumer validating the package checks URLs and GitHub user names online; DOIs are
checked by pattern only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from volseg.errors import VolsegError

CARD_NAME = "model_card.yaml"
LISTS = ("authors", "maintainers", "tags", "cite")
TEXTS = ("name", "description", "version", "license", "documentation")
PERSON_KEYS = ("name", "affiliation", "email", "orcid", "github_user")
CITE_KEYS = ("text", "doi", "url")


@dataclass
class ModelCard:
    """The card's values (empty when the card, or the key, is absent)."""

    path: str | None = None
    name: str | None = None
    description: str | None = None
    version: str | None = None
    license: str | None = None
    documentation: str | None = None
    authors: list[dict[str, str]] = field(default_factory=list)
    maintainers: list[dict[str, str]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    cite: list[dict[str, str]] = field(default_factory=list)


def _entries(value: Any, key: str, keys: tuple[str, ...], where: str) -> list[dict[str, str]]:
    if not isinstance(value, list):
        raise VolsegError(f"{where}: `{key}` must be a list of mappings, got {value!r}.")
    out = []
    for i, entry in enumerate(value):
        if not isinstance(entry, dict) or not entry:
            raise VolsegError(f"{where}: `{key}[{i}]` must be a mapping, got {entry!r}.")
        unknown = sorted(set(map(str, entry)) - set(keys))
        if unknown:
            raise VolsegError(
                f"{where}: unknown key `{key}[{i}].{unknown[0]}`; valid keys: {', '.join(keys)}."
            )
        out.append({str(k): str(v) for k, v in entry.items() if v is not None})
    return out


def read_card(path: str | os.PathLike[str]) -> ModelCard:
    """Read and check a model card (see the module docstring)."""
    where = str(path)
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise VolsegError(f"model card {where} does not exist.") from None
    except yaml.YAMLError as exc:
        raise VolsegError(f"model card {where} is not valid YAML ({exc}).") from None
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        raise VolsegError(f"model card {where} must be a mapping of keys to values.")
    card = ModelCard(path=where)
    for key, value in raw.items():
        if key not in TEXTS + LISTS:
            valid = ", ".join(TEXTS + LISTS)
            raise VolsegError(f"{where}: unknown model card key `{key}`; valid keys: {valid}.")
        if value is None:
            continue
        if key == "tags":
            if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
                raise VolsegError(f"{where}: `tags` must be a list of strings, got {value!r}.")
            card.tags = list(value)
        elif key == "cite":
            card.cite = _entries(value, key, CITE_KEYS, where)
            for i, entry in enumerate(card.cite):
                if "text" not in entry or not ({"doi", "url"} & set(entry)):
                    raise VolsegError(f"{where}: `cite[{i}]` needs a `text` and a `doi` or `url`.")
        elif key in ("authors", "maintainers"):
            setattr(card, key, _entries(value, key, PERSON_KEYS, where))
        elif isinstance(value, dict | list):
            raise VolsegError(f"{where}: `{key}` must be text, got {value!r}.")
        else:
            setattr(card, key, str(value))
    return card


def find_card(run_dir: Path | None, given: str | os.PathLike[str] | None) -> ModelCard:
    """The card named by ``--card``, else ``model_card.yaml`` of the run, else an empty one."""
    if given is not None:
        return read_card(given)
    if run_dir is not None and (run_dir / CARD_NAME).is_file():
        return read_card(run_dir / CARD_NAME)
    return ModelCard()
