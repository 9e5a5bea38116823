"""What the spec refuses, said in one sentence, and whether a written package passes.

- :func:`check_card`: model card values the spec would refuse (name, licence, version,
  citations, people), before any work, naming the card key;
- :func:`invalid_description`: the sentence for a description the spec refuses;
- :func:`check_replaceable_package`: ``--overwrite`` replaces only a package volseg exported;
- :func:`check_package`: bioimageio.core's validation and test of a package, per weight format.

Checks run offline (``perform_io_checks`` off); :func:`check_package` runs what
``bioimageio test`` runs, with the fix of :mod:`volseg.export._compat` applied.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any

from volseg.errors import VolsegError
from volseg.export.card import ModelCard


def check_card(card: ModelCard) -> None:
    """Refuse a card value the spec would refuse, before any work (offline: URLs and GitHub
    users are not looked up)."""
    from typing import Annotated

    from bioimageio.spec import ValidationContext
    from bioimageio.spec.generic.v0_3 import Author, CiteEntry, Maintainer
    from bioimageio.spec.model.v0_5 import ModelDescr
    from pydantic import TypeAdapter

    def refuse(key: str, exc: Exception) -> VolsegError:
        return VolsegError(f"model card {card.path}: `{key}`: {_reason(exc, key)}.")

    with ValidationContext(perform_io_checks=False):
        for key in ("name", "license", "version"):
            if getattr(card, key) is None:
                continue
            field = ModelDescr.model_fields[key]
            kind = (
                Annotated[(field.annotation, *field.metadata)]
                if field.metadata
                else field.annotation
            )
            try:
                TypeAdapter(kind).validate_python(getattr(card, key))
            except ValueError as exc:
                raise refuse(key, exc) from None
        for key, cls in (("cite", CiteEntry), ("authors", Author), ("maintainers", Maintainer)):
            for i, entry in enumerate(getattr(card, key)):
                try:
                    cls(**entry)
                except ValueError as exc:
                    raise refuse(f"{key}[{i}]", exc) from None


def _reason(exc: Exception, key: str) -> str:
    """The first error of a pydantic ``ValidationError`` (licence errors list every SPDX id:
    a short sentence instead)."""
    if key == "license":
        return "must be an SPDX license identifier, e.g. MIT, BSD-3-Clause or CC-BY-4.0"
    errors = exc.errors() if hasattr(exc, "errors") else []  # pydantic's ValidationError
    first = errors[0] if errors else {"loc": (), "msg": str(exc)}
    where = ".".join(str(p) for p in first["loc"] if not str(p).startswith("function-"))
    text = first["msg"].removeprefix("Value error, ").rstrip(".")
    return f"{where + ': ' if where else ''}{text[:200]}"


def invalid_description(exc: Exception, card: ModelCard) -> VolsegError:
    """One sentence for a description the spec refuses (what :func:`check_card` cannot see
    alone, e.g. a value that clashes with another)."""
    origin = f" (check the model card {card.path})" if card.path else ""
    return VolsegError(
        f"the BioImage Model Zoo spec refuses the package description: {_reason(exc, '')}{origin}."
    )


def check_replaceable_package(out: Path) -> None:
    """``--overwrite`` replaces only a package volseg exported."""
    import yaml

    try:
        with zipfile.ZipFile(out) as zf:
            names = [n for n in zf.namelist() if n in ("rdf.yaml", "bioimageio.yaml")]
            rdf = yaml.safe_load(zf.read(names[0])) if names else {}
        ours = "volseg" in ((rdf or {}).get("config") or {})
    except (OSError, zipfile.BadZipFile, yaml.YAMLError, AttributeError):
        ours = False
    if not ours:
        raise VolsegError(
            f"{out} is not a package volseg exported; --overwrite replaces only those: remove "
            "it yourself or choose another output path."
        )


def check_package(path: str | os.PathLike[str]) -> dict[str, str]:
    """Validate a package and run its test with bioimageio.core, once per weight format.

    Returns:
        ``{weight format: "passed"}``, or ``"failed: <the first error>"``; the key is
        ``format`` when the description itself is invalid.
    """
    from bioimageio.core import load_description, test_model
    from bioimageio.spec import InvalidDescr

    from volseg.export._compat import patch_bioimageio

    def outcome(summary: Any) -> str:
        if summary.status == "passed":
            return "passed"
        errors = [e.msg for d in summary.details for e in d.errors]
        return f"failed: {errors[0] if errors else summary.status}"

    patch_bioimageio()
    descr = load_description(path)
    if isinstance(descr, InvalidDescr):
        return {"format": outcome(descr.validation_summary)}
    formats = [f for f, entry in descr.weights if entry is not None]
    return {f: outcome(test_model(path, weight_format=f, devices=["cpu"])) for f in formats}
