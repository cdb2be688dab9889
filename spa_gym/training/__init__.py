"""Training plumbing below the SPA core: models by name, checkpoints, schedules, memory savers.

- :mod:`.models`: :func:`resolve_model` turns ``"tiny"``, ``"smollm2-135m"`` or a folder into a
  transformers folder; :func:`model_defaults` gives LoRA and learning-rate defaults per kind.
- :mod:`.tiny`: the tiny word-level model built locally from an env's own text.
- :mod:`.kv_cache`: the KV-cache keyword of this transformers version.
- :mod:`.activations`: activation checkpointing.
- :mod:`.checkpoints`: model, head and training-state files (safe loading, atomic saves, one-line errors).
- :mod:`.schedules`: learning-rate schedules.
- :mod:`.distributed`: one process or data parallel (accelerate) from the same training loops.
"""

from .activations import checkpoint_activations
from .models import NAMED_MODELS, ModelDefaults, ModelNotInstalledError, lora_config, model_defaults, resolve_model
from .tiny import build_tiny_model, spa_gym_home, tiny_model_path

__all__ = [
    "NAMED_MODELS",
    "ModelDefaults",
    "ModelNotInstalledError",
    "build_tiny_model",
    "checkpoint_activations",
    "lora_config",
    "model_defaults",
    "resolve_model",
    "spa_gym_home",
    "tiny_model_path",
]
