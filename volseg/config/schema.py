"""The top-level config: PyTorch Connectomics v2 sections, typed."""

from __future__ import annotations

from dataclasses import dataclass, field

from volseg.config.schema_data import DataConfig
from volseg.config.schema_decode import TestConfig, TuneConfig
from volseg.config.schema_model import ModelConfig
from volseg.config.schema_run import (
    InferenceConfig,
    MonitorConfig,
    OptimizationConfig,
    SystemConfig,
)
from volseg.config.schema_selftrain import SelfTrainConfig
from volseg.config.typecheck import register_sections


@dataclass
class Config:
    """A whole volseg config (``_base_`` is consumed by the loader, never stored)."""

    experiment_name: str = "volseg"
    description: str = ""
    system: SystemConfig = field(default_factory=SystemConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    optimization: OptimizationConfig = field(default_factory=OptimizationConfig)
    monitor: MonitorConfig = field(default_factory=MonitorConfig)
    inference: InferenceConfig = field(default_factory=InferenceConfig)
    test: TestConfig = field(default_factory=TestConfig)
    tune: TuneConfig = field(default_factory=TuneConfig)
    selftrain: SelfTrainConfig = field(default_factory=SelfTrainConfig)


SECTIONS: dict[str, type] = {
    "system": SystemConfig,
    "model": ModelConfig,
    "data": DataConfig,
    "optimization": OptimizationConfig,
    "monitor": MonitorConfig,
    "inference": InferenceConfig,
    "test": TestConfig,
    "tune": TuneConfig,
    "selftrain": SelfTrainConfig,
}
register_sections(SECTIONS)
