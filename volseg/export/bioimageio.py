"""``export_bioimageio``: a run or checkpoint as a BioImage Model Zoo package (spec 0.5).

The package (a zip) holds:

- ``weights.pt``: the ``pytorch_state_dict`` weights of :class:`~volseg.export.network.VolsegExport`
  (the original weights), its architecture ``volseg_network.py`` (built from the checkpoint's
  ``model`` section, so it needs volseg: ``environment.yaml``), and ``weights_torchscript.pt``
  traced from them (torch only);
- ``test_input.npy`` / ``test_output.npy`` (:mod:`volseg.export.sample`), pre- and
  post-processing steps (:mod:`volseg.export.processing`);
- ``cover.png`` and ``README.md`` (:mod:`volseg.export.docs`), the card's citations;
- ``config.yaml`` (the config the weights were trained with) and, when a sweep found some,
  ``thresholds.json`` (decoder settings: the spec has no op that turns maps into instances).

The description is built and checked offline (``perform_io_checks`` off: URLs and GitHub user
names in the card are not looked up; ``bioimageio test OUT.zip`` does that). The zip is
written beside ``OUT`` under a temporary name and renamed when complete.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from volseg.atomic import refuse_existing, staged
from volseg.errors import VolsegError
from volseg.export import describe as D
from volseg.export.card import ModelCard, find_card
from volseg.export.source import ExportSource, open_source
from volseg.export.validate import check_card, check_replaceable_package, invalid_description

ARCHITECTURE = "volseg_network.py"
#: Tags every package gets (with ``2d``/``3d``, the task and the card's).
DOC_TAGS = ("volseg", "electron-microscopy", "pytorch", "unet")


def network_kwargs(model_cfg: dict[str, Any]) -> dict[str, Any]:
    """The model section reduced to the keys that shape the network (the package's kwargs)."""
    from volseg.models.options import COMMON_KEYS, USED_KEYS, architecture

    keys = COMMON_KEYS | USED_KEYS[architecture(model_cfg)]
    return {k: model_cfg[k] for k in sorted(keys) if model_cfg.get(k) is not None}


def _save_weights(src: ExportSource, activations: list[str], x: np.ndarray, folder: Path):
    """Build the exported network, write its state dict and a traced copy; return the net."""
    import torch

    from volseg.export.network import VolsegExport

    kwargs = {"model": network_kwargs(src.model_cfg), "activations": activations}
    net = VolsegExport(**kwargs)
    net.net.load_state_dict(src.ckpt["model_state"], strict=True)
    net.eval()
    torch.save(net.state_dict(), folder / "weights.pt")
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # trace warnings: shape checks become constants
        traced = torch.jit.trace(net, torch.from_numpy(x), check_trace=False)
    traced.save(str(folder / "weights_torchscript.pt"))
    return net, kwargs


def _environment(folder: Path) -> Path:
    import monai
    import torch

    import volseg

    text = (
        "# The pytorch_state_dict weights need volseg (volseg_network.py builds the network with\n"
        "# it). volseg is not on PyPI: install it from its source repository\n"
        "# (pip install <volseg checkout>). The torchscript weights need torch only.\n"
        "name: volseg\n"
        "channels: [conda-forge]\n"
        "dependencies:\n"
        "  - python>=3.11\n"
        "  - pip\n"
        "  - pip:\n"
        f"      - torch>={torch.__version__.split('+')[0]}\n"
        f"      - monai>={monai.__version__}\n"
        f"      - volseg>={volseg.__version__}\n"
    )
    path = folder / "environment.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _name(src: ExportSource, card: ModelCard) -> str:
    if card.name:
        return card.name
    text = f"volseg {src.cfg.experiment_name or 'model'}"
    clean = "".join(c if c.isalnum() or c in "_+- ()" else "-" for c in text if c.isascii())
    return clean[:64]


def export_bioimageio(
    source: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    image: str | None = None,
    card: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
    say: Callable[[str], None] | None = None,
) -> Path:
    """Write the BioImage Model Zoo package of ``source`` (run directory or checkpoint) to
    ``out`` (a ``.zip``); see the module docstring.

    Args:
        source: a run directory (its ``checkpoints/best.pt``) or a checkpoint file.
        out: the package, ``NAME.zip``.
        image: the image to cut the test input from (default: the run's first training image).
        card: a model card (default: the run's ``model_card.yaml``, if any).
        overwrite: replace an existing package volseg exported.
        say: gets progress lines.

    Returns:
        ``out``.
    """
    from volseg.export._compat import patch_bioimageio
    from volseg.io.guard import refuse_overlap

    patch_bioimageio()
    out = Path(out)
    if out.suffix != ".zip":
        raise VolsegError(f"{out}: a BioImage Model Zoo package is a zip file; name it NAME.zip.")
    refuse_existing(out, overwrite=overwrite)
    if out.exists():
        check_replaceable_package(out)
    src = open_source(source)
    inputs = {"checkpoint": src.checkpoint, "image": image, "model card": card}
    refuse_overlap(out, inputs, option="OUT")
    model_card = find_card(src.run_dir, card)
    check_card(model_card)
    tell = say or (lambda _: None)
    out.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{out.name}.volseg-build-"
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=prefix) as tmp:
        folder = Path(tmp)
        descr = build_description(src, model_card, folder, image=image, say=tell)
        with staged(out, overwrite=overwrite) as target:
            _package(descr, folder / "package.zip")
            shutil.move(folder / "package.zip", target)
    return out


def _package(descr: Any, path: Path) -> None:
    from bioimageio.spec import ValidationContext, save_bioimageio_package

    with ValidationContext(perform_io_checks=False):
        save_bioimageio_package(descr, output_path=path)


def build_description(
    src: ExportSource,
    card: ModelCard,
    folder: Path,
    *,
    image: str | None,
    say: Callable[[str], None],
) -> Any:
    """Write the package's files into ``folder`` and return the model description."""
    from bioimageio.spec import ValidationContext

    from volseg.export import docs
    from volseg.export.processing import preprocessing, split_activations
    from volseg.export.sample import cut_tile, reference_output, tile_shape
    from volseg.infer.plan import channel_names
    from volseg.models import build, channel_activations

    model_cfg = src.model_cfg
    net = build(model_cfg)
    net.load_state_dict(src.ckpt["model_state"], strict=True)
    dims = net.spatial_dims
    tile = tile_shape(src.cfg.model.input_size, net.divisor, dims)
    test = cut_tile(src.cfg, tile=tile, image=image)
    say(f"test input: {list(tile)} voxels from {test.image} at {list(test.start)}")
    transform = src.cfg.data.image_transform
    expected = reference_output(net, model_cfg, transform, test.raw)
    acts = channel_activations(model_cfg)
    post, in_network = split_activations(acts)
    x = test.raw[None] if dims == 3 else test.raw[:, 0][None]
    y = expected[None] if dims == 3 else expected[:, 0][None]
    np.save(folder / "test_input.npy", x)
    np.save(folder / "test_output.npy", y)
    exported, kwargs = _save_weights(src, in_network, x, folder)
    names = list(channel_names(model_cfg))
    voxel = None if test.voxel_size is None else dict(zip("zyx", test.voxel_size, strict=True))
    files = docs.write_docs(
        src, card, folder, x=x, y=y, channels=names, tile=tile, test=test, activations=in_network
    )
    shutil.copyfile(Path(__file__).with_name("network.py"), folder / ARCHITECTURE)
    inputs = dict(
        in_channels=net.in_channels, dims=dims, divisor=net.divisor, tile=tile[-dims:],
        voxel=voxel, test_tensor=folder / "test_input.npy",
    )  # fmt: skip
    outputs = dict(
        channels=names, activations=acts, dims=dims, voxel=voxel, postprocessing=post,
        test_tensor=folder / "test_output.npy",
    )  # fmt: skip
    weights = dict(
        state_dict=folder / "weights.pt", torchscript=folder / "weights_torchscript.pt",
        architecture=folder / ARCHITECTURE, kwargs=kwargs, environment=_environment(folder),
    )  # fmt: skip
    kind = "semantic-segmentation" if set(names) == {"binary"} else "instance-segmentation"
    try:
        with ValidationContext(perform_io_checks=False):
            return _model_descr(
                src, card, files,
                tags=sorted({*DOC_TAGS, f"{dims}d", kind, *card.tags}),
                inputs=D.input_tensor(
                    **inputs, preprocessing=preprocessing(transform, ["channel", *"zyx"[-dims:]])
                ),
                outputs=D.output_tensor(**outputs),
                weights=weights,
                provenance=docs.provenance(src, exported, test),
            )  # fmt: skip
    except ValueError as exc:  # pydantic's ValidationError is one
        raise invalid_description(exc, card) from None


def _model_descr(
    src: ExportSource, card: ModelCard, files: Any, *, tags: list[str], inputs: Any,
    outputs: Any, weights: dict[str, Any], provenance: dict[str, Any],
) -> Any:  # fmt: skip
    from bioimageio.spec.generic.v0_3 import Author, CiteEntry, Maintainer
    from bioimageio.spec.model import v0_5 as spec

    from volseg.export.docs import summary_line

    authors = [Author(**a) for a in card.authors]
    return spec.ModelDescr(
        name=_name(src, card),
        description=card.description or src.cfg.description or summary_line(src),
        version=card.version,
        authors=authors,
        maintainers=[Maintainer(**m) for m in card.maintainers],
        cite=[CiteEntry(**c) for c in card.cite],
        license=card.license,
        tags=tags,
        documentation=D.hashed_file(files.readme),
        covers=[D.hashed_file(files.cover)],
        attachments=[D.hashed_file(p) for p in files.attachments],
        inputs=[inputs],
        outputs=[outputs],
        weights=D.weights(**weights, authors=authors),
        config={"volseg": provenance},
    )
