"""The ``system``, ``optimization``, ``monitor`` and ``inference`` sections."""

from __future__ import annotations

from dataclasses import dataclass, field

from volseg.config.fields import NON_NEGATIVE, POSITIVE, spec

OPTIMIZERS = ("AdamW", "Adam", "SGD")
SCHEDULERS = ("warmup_cosine", "cosine", "reduce_on_plateau", "step", "none")
#: ``optimization.optimizer`` keys each optimizer uses (besides name, lr, weight_decay).
OPTIMIZER_KEYS: dict[str, frozenset[str]] = {
    "AdamW": frozenset({"betas", "eps"}),
    "Adam": frozenset({"betas", "eps"}),
    "SGD": frozenset({"momentum"}),
}
#: ``optimization.scheduler`` keys each scheduler uses (besides name).
SCHEDULER_KEYS: dict[str, frozenset[str]] = {
    "warmup_cosine": frozenset({"warmup_epochs", "warmup_start_lr", "min_lr"}),
    "cosine": frozenset({"min_lr"}),
    "reduce_on_plateau": frozenset({"patience", "factor", "min_lr"}),
    "step": frozenset({"step_size", "gamma"}),
    "none": frozenset(),
}


@dataclass
class SystemTrainingConfig:
    """Resources for training; ``num_gpus: -1`` = every visible GPU, the CPU when none."""

    num_gpus: int = spec(-1, lo=-1)
    num_cpus: int = spec(2, lo=1)
    num_workers: int = spec(2, lo=0)
    batch_size: int = spec(2, lo=1)


@dataclass
class SystemInferenceConfig:
    """Resources for prediction; ``num_gpus: -1`` = every visible GPU, the CPU when none.

    Windows per forward pass are ``inference.sliding_window.sw_batch_size``; prediction reads
    in-process (or on Dask workers), so there is no batch size or loader worker count here.
    """

    num_gpus: int = spec(-1, lo=-1)
    num_cpus: int = spec(2, lo=1)


@dataclass
class SystemConfig:
    """Hardware and reproducibility (``seed: null`` = a fresh random seed)."""

    training: SystemTrainingConfig = field(default_factory=SystemTrainingConfig)
    inference: SystemInferenceConfig = field(default_factory=SystemInferenceConfig)
    seed: int | None = 42
    deterministic: bool = False


@dataclass
class OptimizerConfig:
    """Optimizer; ``betas``/``eps`` are for Adam(W), ``momentum`` for SGD."""

    name: str = spec("AdamW", choices=OPTIMIZERS)
    lr: float = spec(1e-3, **POSITIVE)
    weight_decay: float = spec(0.01, **NON_NEGATIVE)
    betas: list[float] = spec(factory=lambda: [0.9, 0.999], length=2, lo=0.0, hi=1.0, hi_open=True)
    eps: float = spec(1e-8, **POSITIVE)
    momentum: float = spec(0.9, lo=0.0, hi=1.0, hi_open=True)


@dataclass
class SchedulerConfig:
    """Learning-rate schedule. ``warmup_start_lr`` is a *factor* of ``lr`` (0.1 = start the
    linear warm-up at 10 % of lr); ``min_lr`` is absolute. ``step`` multiplies lr by ``gamma``
    every ``step_size`` epochs; ``reduce_on_plateau`` by ``factor`` after ``patience`` epochs."""

    name: str = spec("warmup_cosine", choices=SCHEDULERS)
    warmup_epochs: int = spec(5, lo=0)
    warmup_start_lr: float = spec(0.1, lo=0.0, hi=1.0, lo_open=True)
    min_lr: float = spec(1e-6, **NON_NEGATIVE)
    step_size: int = spec(30, lo=1)
    gamma: float = spec(0.1, lo=0.0, hi=1.0, lo_open=True, hi_open=True)
    patience: int = spec(10, lo=1)
    factor: float = spec(0.5, lo=0.0, hi=1.0, lo_open=True, hi_open=True)


@dataclass
class EmaConfig:
    """Exponential moving average of the weights; ``warmup``: the decay starts low and reaches
    ``decay`` after about ``10 / (1 - decay)`` steps (``volseg.train.ema``)."""

    enabled: bool = False
    decay: float = spec(0.999, lo=0.0, hi=1.0, lo_open=True, hi_open=True)
    use_for_validation: bool = True
    warmup: bool = True


@dataclass
class OptimizationConfig:
    """Training length and optimiser; ``gradient_clip_val: 0`` disables clipping.

    ``max_time``: a wall-clock budget for the whole fit (validation and checkpoints included),
    as seconds or ``HH:MM:SS`` / ``DD:HH:MM:SS`` (:mod:`volseg.config.duration`; read as seconds).
    With it the step-driven schedules follow the larger of steps done / planned and budget used,
    so they reach their end (``min_lr``) when training stops, however fast the steps go."""

    max_epochs: int = spec(100, lo=1)
    max_steps: int | None = spec(None, lo=1)
    max_time: float | str | None = None  # checked and read as seconds by validate
    gradient_clip_val: float = spec(1.0, **NON_NEGATIVE)
    accumulate_grad_batches: int = spec(1, lo=1)
    precision: str = spec("32", choices=("32", "16-mixed", "bf16-mixed"))
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)
    ema: EmaConfig = field(default_factory=EmaConfig)


@dataclass
class CheckpointConfig:
    """``best.pt`` by ``monitor``; ``last.pt`` when ``save_last``."""

    monitor: str = "val_loss"
    mode: str = spec("min", choices=("min", "max"))
    save_last: bool = True
    every_n_epochs: int = spec(1, lo=1)


@dataclass
class EarlyStoppingConfig:
    """Stop when the ``smoothing``-epoch moving average of ``monitor`` has not improved by
    ``min_delta`` for ``patience`` epochs, or when it passes ``divergence_threshold``."""

    enabled: bool = False
    monitor: str = "val_loss"
    patience: int = spec(20, lo=1)
    min_delta: float = spec(0.0, **NON_NEGATIVE)
    mode: str = spec("min", choices=("min", "max"))
    smoothing: int = spec(1, lo=1)
    divergence_threshold: float | None = None


@dataclass
class LoggingConfig:
    """Scalars every ``every_n_steps``; figures every ``figures_every_n_epochs`` (0 = never)."""

    every_n_steps: int = spec(10, lo=1)
    tensorboard: bool = True
    figures_every_n_epochs: int = spec(10, lo=0)


@dataclass
class MonitorConfig:
    """Checkpoints, early stopping, logging. ``full_val_every_n_epochs``: decode and score whole
    validation volumes that often (0 = never); plain validation loss every
    ``val_every_n_epochs``."""

    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    early_stopping: EarlyStoppingConfig = field(default_factory=EarlyStoppingConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    val_every_n_epochs: int = spec(1, lo=1)
    full_val_every_n_epochs: int = spec(10, lo=0)


@dataclass
class SlidingWindowConfig:
    """Sliding-window prediction (null ``window_size`` = ``model.input_size``)."""

    window_size: list[int] | None = spec(None, length=3, lo=1)
    overlap: float = spec(0.25, lo=0.0, hi=1.0, hi_open=True)
    sigma_scale: float = spec(0.125, **POSITIVE)
    blending: str = spec("gaussian", choices=("gaussian", "constant"))
    sw_batch_size: int = spec(1, lo=1)
    padding_mode: str = spec("reflect", choices=("constant", "reflect", "replicate"))


@dataclass
class TestTimeAugmentationConfig:
    """Average (``ensemble_mode``) predictions over the identity plus each ``flip_axes`` entry
    (spatial axes flipped together; 0 = z, 1 = y, 2 = x; the channel axis is never flipped),
    and with ``rotate90`` each of those again rotated by 90, 180, 270 degrees in (y, x)."""

    __test__ = False  # a schema, not a pytest class

    enabled: bool = False
    flip_axes: list[list[int]] = spec(factory=lambda: [[0], [1], [2]])
    rotate90: bool = False
    ensemble_mode: str = spec("mean", choices=("mean", "min", "max"))


@dataclass
class SavePredictionConfig:
    """Map storage: float32, or uint8 quantised (recorded in the array attributes)."""

    dtype: str = spec("float32", choices=("float32", "uint8"))
    chunks: list[int] | None = spec(None, length=3, lo=1)


@dataclass
class InferenceConfig:
    """Prediction and blockwise decoding of whole volumes block by block. ``halo``: voxels of
    maps read around each block when decoding blockwise (null = 16 voxels on the finest axis
    and the same physical extent on the others). ``output_path``: the predictions zarr.
    ``voxel_size`` (nm): the image's voxel size when its file records none (must agree when it
    does; ``data.voxel_size`` describes the training data only)."""

    sliding_window: SlidingWindowConfig = field(default_factory=SlidingWindowConfig)
    test_time_augmentation: TestTimeAugmentationConfig = field(
        default_factory=TestTimeAugmentationConfig
    )
    save_prediction: SavePredictionConfig = field(default_factory=SavePredictionConfig)
    block_shape: list[int] = spec(factory=lambda: [64, 256, 256], length=3, lo=1)
    halo: list[int] | None = spec(None, length=3, lo=0)
    output_path: str | None = spec(None, path="one")
    voxel_size: list[float] | None = spec(None, length=3, lo=0.0, lo_open=True)
