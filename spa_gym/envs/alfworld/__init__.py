"""SPA-ALFWorld-v0: ALFWorld's household text world on a native, offline engine.

Modules: :mod:`.problem` (a game as PDDL states it), :mod:`.pddl` (real game-file loader),
:mod:`.scenes` (procedural scenes), :mod:`.suite` (the task suite and its splits), :mod:`.game`
(naming and compiling), :mod:`.engine` (the rules), :mod:`.text` (the strings), :mod:`.expert`
(a planner that solves every task), :mod:`.env` (the Gymnasium env).
"""

from .engine import Episode
from .env import ALFWorldEnv
from .expert import expert_action, expert_plan, progress_labels
from .suite import SPLITS, TaskSuite

__all__ = ["ALFWorldEnv", "Episode", "SPLITS", "TaskSuite", "expert_action", "expert_plan", "progress_labels"]
