"""EM data augmentation applied jointly to image, instance labels and mask.

``build_augmentation(aug_cfg, *, voxel_size)`` returns an :class:`Augment`; call it as
``aug(image, labels, mask, rng)``. One module per transform family: ``flip`` (flips, rot90),
``affine``, ``elastic``, ``intensity``, ``artefacts`` (misalignment, missing section, motion
blur), ``cutout``; ``pipeline`` assembles them.
"""

from volseg.data.augment.pipeline import Augment, build_augmentation

__all__ = ["Augment", "build_augmentation"]
