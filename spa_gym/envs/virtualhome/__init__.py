"""SPA-VirtualHome-v0: VirtualHome's evolving-graph household as an offline text env.

Modules: :mod:`.graph` (the graph store and its validation), :mod:`.script` (script lines such as
``[WALK] <kitchen> (11)``), :mod:`.simulator` (the evolving-graph simulator, exact to the real
one on the recordings), :mod:`.loader` (real VirtualHome graphs, programs and the eai-eval data;
STeCa's graph-diff success check), :mod:`.vocabulary` and :mod:`.households` (generated homes),
:mod:`.tasks` (activities, goals, splits), :mod:`.text` (the SPA-RL/STeCa text protocol),
:mod:`.expert` (solves every task), :mod:`.env` (the Gymnasium env).
"""

from .env import VirtualHomeEnv
from .graph import GraphError
from .loader import graph_diff_success, load_graph_file, load_program, revised_graph
from .script import ScriptLine, parse_script_line
from .simulator import Simulator
from .tasks import TaskSuite

__all__ = [
    "GraphError",
    "ScriptLine",
    "Simulator",
    "TaskSuite",
    "VirtualHomeEnv",
    "graph_diff_success",
    "load_graph_file",
    "load_program",
    "parse_script_line",
    "revised_graph",
]
