"""Build hook: the wheel carries ``tutorials/`` and ``configs/`` as ``volseg/_data/``.

They stay at the repository root, where people edit them; ``volseg.resources`` finds them in
either place. Everything else about the package is declared in ``pyproject.toml``.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
FOLDERS = ("tutorials", "configs")
SUFFIXES = (".yaml", ".md")


class build_py_with_data(build_py):  # noqa: N801 (setuptools command naming)
    """Copy the data folders into the built package (not for editable installs, which read
    them from the checkout)."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for name in FOLDERS:
            for src in sorted((ROOT / name).rglob("*")):
                if src.is_file() and src.suffix in SUFFIXES:
                    dest = Path(self.build_lib, "volseg", "_data", src.relative_to(ROOT))
                    self.mkpath(str(dest.parent))
                    self.copy_file(str(src), str(dest))


setup(cmdclass={"build_py": build_py_with_data})
