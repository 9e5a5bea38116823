"""Files volseg ships beside its code: the tutorial configs and the reference configs.

In the repository they live at the top level (``tutorials/``, ``configs/``). A built wheel
carries copies inside the package, under ``volseg/_data/`` (``setup.py`` copies them there at
build time). Both layouts are found here, so code never builds a path relative to the
repository; an editable install runs from the checkout and uses the top-level folders.
"""

from __future__ import annotations

from pathlib import Path

from volseg.errors import VolsegError

PACKAGE = Path(__file__).resolve().parent
#: Where a wheel carries the data folders.
PACKAGED = PACKAGE / "_data"
#: The folders shipped as package data (names as in the repository).
FOLDERS = ("tutorials", "configs")


def checkout_root() -> Path | None:
    """The repository this package runs from (editable install or source tree), else None."""
    root = PACKAGE.parent
    return root if (root / "pyproject.toml").is_file() and (root / "tutorials").is_dir() else None


def data_dir(name: str) -> Path:
    """The shipped folder ``name`` (``"tutorials"`` or ``"configs"``)."""
    if name not in FOLDERS:
        raise ValueError(f"unknown data folder {name!r}; expected one of {FOLDERS}")
    packaged = PACKAGED / name
    if packaged.is_dir():
        return packaged
    root = checkout_root()
    if root is not None:
        return root / name
    raise VolsegError(
        f"the {name} folder is missing from the installed volseg package ({packaged}); "
        "reinstall volseg from a wheel or from the repository."
    )


def tutorials_dir() -> Path:
    return data_dir("tutorials")


def configs_dir() -> Path:
    return data_dir("configs")


def tutorial_names() -> list[str]:
    """Names of the shipped tutorial configs, without ``.yaml``."""
    return sorted(p.stem for p in tutorials_dir().glob("*.yaml"))


def tutorial(name: str) -> Path:
    """The shipped tutorial config ``name`` (``lucchi-mito`` or ``lucchi-mito.yaml``)."""
    stem = name.removesuffix(".yaml")
    path = tutorials_dir() / f"{stem}.yaml"
    if not path.is_file():
        raise VolsegError(
            f"no tutorial named {name!r}; the shipped tutorials are {', '.join(tutorial_names())}."
        )
    return path


def config_file(file: str | Path) -> Path:
    """``file`` if it exists, else the shipped tutorial of that name (``volseg config show
    lucchi-mito`` works from any folder). A bare name that is neither raises one sentence."""
    path = Path(file)
    if path.exists() or path.parent != Path(".") or path.suffix not in ("", ".yaml"):
        return path
    if (tutorials_dir() / f"{path.name.removesuffix('.yaml')}.yaml").is_file():
        return tutorial(path.name)
    raise VolsegError(
        f"{file} is neither a file nor a shipped tutorial (those are "
        f"{', '.join(tutorial_names())})."
    )
