"""Adapters for RL libraries: spa-gym's text envs in the spaces and loops each library expects.

- :mod:`.sb3`: :func:`~.sb3.make_sb3_env` for stable-baselines3 / sb3-contrib (``pip install "spa-gym[sb3]"``).
- :mod:`.trl`: :class:`~.trl.EnvRollout`, a ``rollout_func`` for TRL's GRPOTrainer (``pip install "spa-gym[trl]"``).
- :mod:`.verifiers_env`: :func:`~.verifiers_env.load_environment` for verifiers >= 0.4 / prime-rl
  (``pip install "spa-gym[verifiers]"``).
- :mod:`.verl`: :class:`~.verl.SpaGymAgentLoop`, a verl agent loop, and its task dataset (verl on GPUs).
- :class:`AdmissibleActionsDiscrete`: the admissible commands as ``Discrete(K)`` with ``action_masks()``.
- :class:`HashedTextObservation`: the text observation as a fixed-size ``Box`` of hashed features.

The two wrappers need only Gymnasium; the libraries themselves are imported by the modules that
serve them, never by ``import spa_gym``.
"""

from .admissible_discrete import AdmissibleActionsDiscrete
from .hashed_text_observation import HashedTextObservation

__all__ = ["AdmissibleActionsDiscrete", "HashedTextObservation"]
