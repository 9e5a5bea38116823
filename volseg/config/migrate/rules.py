"""The one table mapping PyTorch Connectomics keys to volseg keys.

Keys are in the flat 2025 shape (:mod:`.read_pytc` brings 2026 stage keys there). A key with no
rule is reported as untranslated with the closest volseg key, never dropped silently.
Drop reasons say either "no such feature in volseg" or "same effect by default".
"""

from __future__ import annotations

import fnmatch

from volseg.config.migrate import convert as cv
from volseg.config.migrate.rule import NO_FEATURE, SAME, Rule, closest, conv, custom, drop, keep, to

_PATHS = "volseg writes checkpoints to runs/<experiment_name>/<timestamp>/checkpoints/"
_LOADER = "volseg reads patches lazily from the files, with no cache to fill"

#: PyTC key (2025 shape) -> rule. Exact keys; :data:`PATTERNS` after.
RULES: dict[str, Rule] = {
    "experiment_name": keep(),
    "description": keep(),
    "save_path": drop(NO_FEATURE, _PATHS),
    "pipeline_profile": custom(cv.pipeline_profile),
    # system
    "system.training.num_gpus": keep(),
    "system.training.num_cpus": keep(),
    "system.training.num_workers": keep(),
    "system.training.batch_size": keep(),
    "system.inference.num_gpus": keep(),
    "system.inference.num_cpus": keep(),
    "system.inference.num_workers": drop(
        NO_FEATURE, "prediction reads in-process or on Dask workers, with no loader workers"
    ),
    "system.inference.batch_size": custom(cv.inference_batch),
    "system.seed": keep(),
    "system.deterministic": keep(),
    "system.num_gpus": custom(cv.both_stages("num_gpus")),
    "system.num_cpus": custom(cv.both_stages("num_cpus")),
    "system.num_workers": to("system.training.num_workers"),
    "system.batch_size": to("system.training.batch_size"),
    "system.profile": closest(
        "system.training",
        "PyTC system profiles live in its own repository; volseg's defaults use every visible GPU",
    ),
    "optimization.deterministic": to("system.deterministic"),
    "optimization.benchmark": drop(NO_FEATURE, "cuDNN benchmark switch"),
    # model
    "model.architecture": custom(cv.architecture),
    "model.arch.type": custom(cv.architecture),
    "model.input_size": conv("model.input_size", cv.zyx_size, "2D sizes get z = 1"),
    "model.output_size": conv("model.output_size", cv.zyx_size, "2D sizes get z = 1"),
    "model.in_channels": keep(),
    "model.out_channels": keep(),
    "model.filters": keep(),
    "model.dropout": keep(),
    "model.activation": keep(),
    "model.norm": keep(),
    "model.upsample": keep(),
    "model.kernel_size": keep(),
    "model.strides": custom(cv.strides),
    "model.num_res_units": keep(),
    "model.deep_supervision": keep(),
    "model.mednext_size": keep(),
    "model.mednext_kernel_size": keep(),
    "model.mednext_dim": conv("model.spatial_dims", cv.dims, "mednext 2d/3d"),
    "model.rsunet_norm": to("model.norm"),
    "model.rsunet_activation": to("model.activation"),
    "model.rsunet_down_factors": to("model.strides", "per-level (z, y, x) downsampling"),
    "model.rsunet_depth_2d": to("model.num_2d_levels", "the first levels work in-plane"),
    "model.rsunet_kernel_2d": drop(SAME, "volseg's in-plane levels use 1x3x3 kernels"),
    "model.rsunet_num_groups": drop(SAME, "group count of group norm, unused with batch norm"),
    "model.monai.filters": to("model.filters"),
    "model.monai.num_res_units": to("model.num_res_units"),
    "model.monai.kernel_size": to("model.kernel_size"),
    "model.monai.dropout": to("model.dropout"),
    "model.mednext.size": to("model.mednext_size"),
    "model.mednext.kernel_size": to("model.mednext_kernel_size"),
    "model.mednext.dim": conv("model.spatial_dims", cv.dims, "mednext 2d/3d"),
    "model.mednext.checkpoint_style": drop(SAME, "gradient checkpointing saves memory only"),
    "model.loss.deep_supervision": to("model.deep_supervision"),
    "model.loss.losses": custom(cv.staged_losses),
    "model.loss.profile": closest(
        "model.loss_functions", "PyTC loss profiles live in its own repository; list the losses"
    ),
    "model.loss_functions": custom(cv.loss_functions),
    "model.loss_weights": keep(),
    "model.loss_kwargs": custom(cv.loss_kwargs),
    "model.loss_balancing": custom(cv.loss_balancing),
    "model.loss.loss_balancing": custom(cv.loss_balancing),
    "model.multi_task_config": custom(cv.multi_task),
    "model.checkpoint": closest(
        "model.external_weights_path",
        "volseg takes the trained checkpoint on the command line (--checkpoint)",
    ),
    # data
    "data.train_image": custom(cv.data_paths),
    "data.train_label": custom(cv.data_paths),
    "data.train_mask": custom(cv.data_paths),
    "data.val_image": custom(cv.data_paths),
    "data.val_label": custom(cv.data_paths),
    "data.val_mask": custom(cv.data_paths),
    "data.train.image": custom(cv.data_paths),
    "data.train.label": custom(cv.data_paths),
    "data.train.mask": custom(cv.data_paths),
    "data.val.image": custom(cv.data_paths),
    "data.val.label": custom(cv.data_paths),
    "data.val.mask": custom(cv.data_paths),
    "data.train_path": custom(cv.data_paths),
    "data.test.image": custom(cv.data_paths),
    "data.test.label": custom(cv.data_paths),
    "data.test.mask": custom(cv.data_paths),
    "data.test.path": custom(cv.data_paths),
    "data.test.resolution": custom(cv.resolution),
    "data.val_path": custom(cv.data_paths),
    "data.train_resolution": custom(cv.resolution),
    "data.train_json": closest(
        "data.train_image", "volseg reads no JSON file lists; list the image files"
    ),
    "data.dataset_type": closest(
        "data.train_image", "volseg reads volumes, not per-file 2D image lists"
    ),
    "data.data_transform.resize": closest(
        "data.train_resolution", "volseg resamples by voxel size, not to a pixel shape"
    ),
    "data.skeleton_path": drop(NO_FEATURE, "skeleton metrics (NERL)"),
    "inference.data.test_path": custom(cv.data_paths),
    "inference.data.test_transpose": closest(
        "", "volseg reads arrays as (z, y, x); store the volume in that order"
    ),
    "data.train.resolution": custom(cv.resolution),
    "data.split_enabled": custom(cv.split),
    "data.split_train_range": custom(cv.split),
    "data.split_val_range": custom(cv.split),
    "data.split_axis": custom(cv.split),
    "data.split_pad_val": drop(SAME, "volseg pads validation patches like training ones"),
    "data.split_pad_mode": drop(SAME, "volseg pads validation patches like training ones"),
    "data.root_path": custom(cv.data_paths),
    "data.train.path": custom(cv.data_paths),
    "data.val.path": custom(cv.data_paths),
    "test.data.test_path": custom(cv.data_paths),
    "data.train.split_ratio": conv(
        "data.val_region",
        lambda v: round(1.0 - float(v), 6),
        "the held-out fraction at the end of z",
    ),
    "data.train_val_split": conv(
        "data.val_region",
        lambda v: round(1.0 - float(v), 6),
        "the held-out fraction at the end of z",
    ),
    "data.patch_size": conv("data.patch_size", cv.zyx_size, "2D sizes get z = 1"),
    "data.dataloader.patch_size": conv("data.patch_size", cv.zyx_size, "2D sizes get z = 1"),
    "data.dataloader.batch_size": to("system.training.batch_size"),
    "data.dataloader.num_workers": to("system.training.num_workers"),
    "data.dataloader.profile": drop(SAME, f"data-loader caching profile; {_LOADER}"),
    "data.batch_size": to("system.training.batch_size"),
    "data.num_workers": to("system.training.num_workers"),
    "data.pad_size": conv("data.pad_size", cv.zyx_pad, "2D sizes get z = 0"),
    "data.pad_mode": keep(),
    "data.image_transform.pad_size": conv("data.pad_size", cv.zyx_pad, "2D sizes get z = 0"),
    "data.image_transform.pad_mode": to("data.pad_mode"),
    "data.iter_num_per_epoch": custom(cv.iter_num),
    "optimization.n_steps_per_epoch": custom(cv.iter_num),
    "data.use_preloaded_cache": drop(SAME, _LOADER),
    "data.dataloader.use_preloaded_cache_train": drop(SAME, _LOADER),
    "data.dataloader.use_preloaded_cache_val": drop(SAME, _LOADER),
    "data.dataloader.persistent_workers": drop(SAME, "loader workers persist across epochs"),
    "data.data_transform.pad_size": conv("data.pad_size", cv.zyx_pad, "2D sizes get z = 0"),
    "data.label_transform.resolution": drop(SAME, "volseg's targets use the voxel size in nm"),
    "data.cache_rate": drop(SAME, _LOADER),
    "data.persistent_workers": drop(SAME, "loader workers persist across epochs"),
    "data.do_2d": conv("model.spatial_dims", lambda v: 2 if v else 3, "2D slices of 3D data"),
    "data.image_transform.normalize": keep(),
    "data.image_transform.clip_percentile_low": keep(),
    "data.image_transform.clip_percentile_high": keep(),
    "data.label_transform.targets": custom(cv.targets),
    "data.label_transform.profile": custom(cv.label_profile),
    "data.label_transform.erosion": closest(
        "data.label_transform.targets",
        "volseg has no label border erosion; an instance_boundary target marks the same borders",
    ),  # fmt: skip
    "data.augmentation.enabled": custom(cv.aug_enabled),
    "data.augmentation.use_augmentation": custom(cv.aug_enabled),
    "data.augmentation.preset": custom(cv.aug_preset),
    "data.augmentation.profile": custom(cv.aug_preset),
    "data.augmentation.rotate.enabled": to("data.augmentation.rotate90.enabled"),
    "data.augmentation.rotate.prob": to("data.augmentation.rotate90.prob"),
    "data.augmentation.rotate.spatial_axes": custom(cv.rotate_axes),
    "data.augmentation.rotate.max_angle": custom(cv.rotate_angle),
    "data.augmentation.affine.rotate_range": conv(
        "data.augmentation.affine.rotate_range", cv.angles, "2D: the in-plane angle is about z"
    ),
    "data.augmentation.affine.scale_range": conv(
        "data.augmentation.affine.scale_range", cv.zyx_pad, "2D: (y, x) get z = 0"
    ),
    "data.augmentation.affine.shear_range": conv(
        "data.augmentation.affine.shear_range", cv.zyx_pad, "2D: (y, x) get z = 0"
    ),
    "data.augmentation.elastic.magnitude_range": closest(
        "data.augmentation.elastic.jitter_sigma_nm",
        "volseg's elastic deformation is set "
        "in nm (control-point jitter), not as a pixel magnitude range; its default is kept",
    ),
    "data.augmentation.elastic.sigma_range": closest(
        "data.augmentation.elastic.control_point_spacing_nm",
        "volseg's elastic smoothness is a control-point spacing in nm; its default is kept",
    ),  # fmt: skip
    "data.augmentation.transforms": closest(
        "data.augmentation", "MONAI transform lists; set volseg's per-transform switches instead"
    ),
    # optimization
    "optimization.max_epochs": keep(),
    "optimization.max_steps": keep(),
    "optimization.gradient_clip_val": keep(),
    "optimization.accumulate_grad_batches": keep(),
    "optimization.precision": conv("optimization.precision", cv.precision, "Lightning names"),
    "optimization.optimizer.name": custom(cv.optimizer_name),
    "optimization.optimizer.lr": conv("optimization.optimizer.lr", float, "a number"),
    "optimization.optimizer.weight_decay": conv(
        "optimization.optimizer.weight_decay", float, "a number"
    ),
    "optimization.optimizer.betas": keep(),
    "optimization.optimizer.eps": keep(),
    "optimization.optimizer.momentum": keep(),
    "optimization.scheduler": custom(cv.scheduler),
    "optimization.profile": custom(cv.optimizer_profile),
    "optimization.val_check_interval": custom(cv.val_interval),
    "optimization.log_every_n_steps": to("monitor.logging.every_n_steps"),
    "optimization.num_sanity_val_steps": drop(NO_FEATURE, "Lightning sanity validation"),
    "optimization.ema.enabled": keep(),
    "optimization.ema.decay": keep(),
    "optimization.ema.validate_with_ema": to("optimization.ema.use_for_validation"),
    "optimization.ema.warmup_steps": drop(
        NO_FEATURE,
        "a fixed-length EMA warm-up (volseg's starts at a low decay that rises to "
        "`decay`: optimization.ema.warmup)",
    ),
    # monitor
    "monitor.detect_anomaly": drop(NO_FEATURE, "autograd anomaly detection"),
    "monitor.logging.scalar.loss": drop(SAME, "volseg logs the training loss every epoch"),
    "monitor.logging.scalar.loss_every_n_steps": to("monitor.logging.every_n_steps"),
    "monitor.logging.scalar.val_check_interval": custom(cv.val_interval),
    "monitor.logging.scalar.benchmark": drop(NO_FEATURE, "cuDNN benchmark switch"),
    "monitor.logging.images": custom(cv.images),
    "monitor.checkpoint.monitor": custom(cv.monitor_name),
    "monitor.checkpoint.mode": keep(),
    "monitor.checkpoint.save_last": keep(),
    "monitor.checkpoint.save_every_n_epochs": to("monitor.checkpoint.every_n_epochs"),
    "monitor.checkpoint.save_top_k": closest(
        "monitor.checkpoint", "volseg keeps best.pt and last.pt, not the top k"
    ),
    "monitor.early_stopping.enabled": keep(),
    "monitor.early_stopping.monitor": custom(cv.monitor_name),
    "monitor.early_stopping.patience": keep(),
    "monitor.early_stopping.mode": keep(),
    "monitor.early_stopping.min_delta": keep(),
    "monitor.early_stopping.divergence_threshold": keep(),
    "monitor.early_stopping.check_finite": drop(
        SAME, "volseg's fit stops on the first non-finite loss"
    ),
    "monitor.early_stopping.threshold": closest(
        "monitor.early_stopping", "volseg has no stop-below-a-loss rule"
    ),
    # inference
    "inference.sliding_window.window_size": conv(
        "inference.sliding_window.window_size", cv.zyx_size, "2D sizes get z = 1"
    ),
    "inference.window.window_size": conv(
        "inference.sliding_window.window_size", cv.zyx_size, "2D sizes get z = 1"
    ),
    "inference.sliding_window.sw_batch_size": keep(),
    "inference.window.sw_batch_size": to("inference.sliding_window.sw_batch_size"),
    "inference.sliding_window.overlap": custom(cv.overlap),
    "inference.window.overlap": custom(cv.overlap),
    "inference.sliding_window.blending": custom(cv.blending),
    "inference.window.blending": custom(cv.blending),
    "inference.sliding_window.sigma_scale": keep(),
    "inference.window.sigma_scale": to("inference.sliding_window.sigma_scale"),
    "inference.sliding_window.padding_mode": keep(),
    "inference.window.padding_mode": to("inference.sliding_window.padding_mode"),
    "inference.sliding_window.stride": custom(cv.stride),
    "inference.sliding_window.pad_size": closest(
        "inference.halo", "volseg pads windows at the volume border only (padding_mode)"
    ),
    "inference.test_time_augmentation.enabled": keep(),
    "inference.test_time_augmentation.flip_axes": custom(cv.flip_axes),
    "inference.test_time_augmentation.rotation90_axes": custom(cv.rotation90),
    "inference.test_time_augmentation.ensemble_mode": keep(),
    "inference.test_time_augmentation.channel_activations": drop(
        SAME,
        "volseg applies each target's own activation (sigmoid for binary and boundary "
        "maps, tanh for distance)",
    ),  # fmt: skip
    "inference.test_time_augmentation.act": drop(
        SAME, "volseg applies each target's own activation"
    ),
    "inference.test_time_augmentation.select_channel": drop(SAME, "volseg keeps every map channel"),
    "inference.test_time_augmentation.apply_mask": closest(
        "test.data.test_mask",
        "volseg scores only inside test_mask; the saved maps are not multiplied by it",
    ),  # fmt: skip
    "inference.test_time_augmentation.save_predictions": drop(
        SAME, "volseg always saves the averaged maps"
    ),
    "inference.model.channel_activations": drop(
        SAME, "volseg applies each target's own activation"
    ),
    "inference.model.select_channel": drop(SAME, "volseg keeps every map channel"),
    "inference.save_results": drop(SAME, "volseg always saves the maps"),
    "inference.save_backend": drop(SAME, "volseg writes maps to zarr"),
    "inference.save_dtype": conv("inference.save_prediction.dtype", str, "map storage type"),
    "inference.window.keep_input_on_cpu": drop(SAME, "volseg reads the image block by block"),
    "inference.postprocessing": custom(cv.postprocessing),
    "inference.save_prediction": custom(cv.postprocessing),
    "inference.data.test_image": custom(cv.data_paths),
    "inference.data.test_label": custom(cv.data_paths),
    "inference.data.test_mask": custom(cv.data_paths),
    "inference.data.test_resolution": custom(cv.resolution),
    "inference.data.output_path": closest(
        "inference.output_path", "volseg predict/segment take the output path on the command line"
    ),
    "inference.data.output_name": closest(
        "inference.output_path", "volseg predict/segment take the output path on the command line"
    ),
    "inference.data.do_2d": conv(
        "model.spatial_dims", lambda v: 2 if v else 3, "2D slices of 3D data"
    ),
    "inference.decoding": custom(cv.decoding),
    "inference.evaluation.enabled": drop(SAME, "volseg scores whenever test labels are given"),
    "inference.evaluation.metrics": custom(cv.metrics),
    # test (2025 hydra-lv and 2026 test stage)
    "test.data.test_image": custom(cv.data_paths),
    "test.data.test_label": custom(cv.data_paths),
    "test.data.test_mask": custom(cv.data_paths),
    "test.data.test_resolution": custom(cv.resolution),
    "test.data.test_resolution_": custom(cv.resolution),
    "test.decoding": custom(cv.decoding),
    "test.decoding.steps": custom(cv.decoding),
    "test.evaluation.enabled": drop(SAME, "volseg scores whenever test labels are given"),
    "test.evaluation.metrics": custom(cv.metrics),
    # tuning
    "tune": custom(cv.tune),
    "tuning": custom(cv.tuning),
    "params": custom(cv.launcher_params),
    # 2025 preset fragments (flat sections)
    "optimizer": custom(cv.moved("optimization.optimizer")),
    "scheduler": custom(cv.moved("optimization.scheduler")),
    "training.max_epochs": to("optimization.max_epochs"),
    "training.precision": conv("optimization.precision", cv.precision, "Lightning names"),
    "training.gradient_clip_val": to("optimization.gradient_clip_val"),
    "checkpoint.monitor": custom(cv.monitor_name),
    "checkpoint.mode": to("monitor.checkpoint.mode"),
    "checkpoint.save_last": to("monitor.checkpoint.save_last"),
    "checkpoint.save_top_k": closest("monitor.checkpoint", "volseg keeps best.pt and last.pt"),
    "logging.log_every_n_steps": to("monitor.logging.every_n_steps"),
}

#: Globs over dotted keys, tried in order when no exact rule matches.
PATTERNS: list[tuple[str, Rule]] = [
    ("data.augmentation.flip.spatial_axis", custom(cv.axes_2d)),
    (
        "data.augmentation.motion_blur.sections",
        conv(
            "data.augmentation.motion_blur.sections",
            lambda v: max(v) if isinstance(v, list) else v,
            "volseg blurs up to this many sections",
        ),
    ),
    ("data.augmentation.*.enabled", custom(cv.aug_switch)),
    ("data.augmentation.*", custom(cv.aug_key)),
    ("monitor.checkpoint.*", drop(NO_FEATURE, _PATHS + " (no file names or folders to set)")),
    ("checkpoint.*", drop(NO_FEATURE, _PATHS)),
    ("logging.*", drop(NO_FEATURE, "volseg logs to the run directory (metrics.csv, TensorBoard)")),
    (
        "output.*",
        drop(NO_FEATURE, "volseg sweep writes sweep.csv and thresholds.json beside the maps"),
    ),
    ("postprocess.*", custom(cv.postprocess_block)),
    ("cluster.*", drop(NO_FEATURE, "Slurm cluster discovery; run volseg inside your job")),
    (
        "data.*_key",
        closest("data.train_image", "give the dataset inside the file as `file.h5:key`"),
    ),
    ("test.data.image_transform.*", custom(cv.test_transform)),
    ("tune.data.image_transform.*", custom(cv.test_transform)),
]


def find(key: str) -> Rule | None:
    """The rule for a PyTC key, or None."""
    if key in RULES:
        return RULES[key]
    for pattern, rule in PATTERNS:
        if fnmatch.fnmatchcase(key, pattern):
            return rule
    return None
