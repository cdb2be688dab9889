"""verifiers' plugin name for spa-gym's envs (verifiers imports a taskset by a top-level module name).

``vf-eval spa-gym-verifiers --env.taskset.env-id SPA-ALFWorld-v0 ...`` finds this module; it is
:mod:`spa_gym.integrations.verifiers_env` under that name.
"""

from spa_gym.integrations.verifiers_env import *  # noqa: F403
from spa_gym.integrations.verifiers_env import __all__  # noqa: F401
