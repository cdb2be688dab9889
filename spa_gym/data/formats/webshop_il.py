"""WebShop's human demonstrations, ``il_trajs_finalized_images.jsonl`` (read only).

One JSON object a line, one demonstration each, as WebShop's imitation-learning baselines read it:
``states`` (the ``text_rich`` page before each action: ``"WebShop\\nInstruction: \\n<goal>\\n[button]
Search [button_]\\n"`` first), ``actions`` (``search[...]`` / ``click[...]`` as sent to the env),
``actions_translate`` (the same with product links as ``click[item - <title>]``),
``available_actions`` (the candidate actions of each step), ``action_idxs`` (the chosen candidate,
-1 on search steps) and, optionally, ``images`` (one feature vector, or 0, per step). Goals are
found by their instruction in WebShop's ``human_goals.json``: lower-cased, quotes removed, the
``, and price lower than ...`` clause cut; the index there is WebShop's goal index (test 0-499,
dev 500-1499, train 1500 and up).

A trajectory of a demonstration: ``initial_observation`` is ``states[0]``, step ``t``'s
observation ``states[t + 1]`` (``""`` for the last step, whose answer is not recorded unless there
is one state more than actions), ``task`` the instruction of the first page, ``task_id``
``all-<g:04d>`` when ``human_goals`` is given (else ``""``; :func:`spa_gym.data.replay.replay` then
finds the goal by its instruction), ``grounded`` inferred (:mod:`.inference`). The records hold no
reward: ``final_reward`` is 0 and ``won`` False; replaying gives the env's. Replay them on
``SPA-WebShop-v0`` with ``observation_mode="text_rich"`` (the replay picks it for such pages).

Writing this format is not supported: it needs each step's candidate list and WebShop's product
titles (``available_actions``, ``actions_translate``) and image features that a trajectory does not
hold, and ``text_rich`` pages.

Example:
    >>> import json, tempfile, pathlib
    >>> first = ("WebShop\\nInstruction: \\ni need a lamp, and price lower than 40.00 dollars\\n"
    ...          "[button] Search [button_]\\n")
    >>> demo = {"states": [first], "actions": ["search[lamp]"], "actions_translate": ["search[lamp]"],
    ...         "available_actions": [["search[lamp]"]], "action_idxs": [-1]}
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "il_trajs_finalized_images.jsonl"
    >>> _ = path.write_text(json.dumps(demo) + "\\n")
    >>> [walk] = read(path, human_goals=["i need a mug", "i need a lamp"])
    >>> walk.task_id, walk.task, walk.steps[0].action, walk.steps[0].observation
    ('all-0001', 'i need a lamp, and price lower than 40.00 dollars', 'search[lamp]', '')
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from ..trajectories import Trajectory
from .inference import WEBSHOP, infer_grounded, task_text
from .records import iter_records, require

__all__ = ["KEYS", "goal_key", "read"]

#: The keys that identify a record of this format.
KEYS: tuple[str, ...] = ("states", "actions")
_PRICE_CLAUSE = ", and price lower than"


def goal_key(instruction: str) -> str:
    """An instruction as WebShop's baselines look it up in ``human_goals.json``.

    Example:
        >>> goal_key("I'd like a \\"red\\" lamp, and price lower than 40.00 dollars")
        'id like a red lamp'
    """
    key = instruction.lower().replace('"', "").replace("'", "")
    return key.split(_PRICE_CLAUSE)[0].strip()


def read(
    path: str | os.PathLike[str],
    env_id: str | None = None,
    human_goals: str | os.PathLike[str] | Sequence[str] | None = None,
) -> list[Trajectory]:
    """The demonstrations of a file as trajectories. ``human_goals``: WebShop's ``human_goals.json``
    (a path, or its list of instructions), to give each demonstration its goal's task id."""
    if env_id not in (None, WEBSHOP):
        raise ValueError(f"WebShop demonstrations play on {WEBSHOP}, not {env_id!r}")
    goals = json.loads(Path(human_goals).read_text()) if isinstance(human_goals, str | os.PathLike) else human_goals
    index = {} if goals is None else {goal: i for i, goal in reversed(list(enumerate(goals)))}
    walks = []
    for line, record in iter_records(path):
        where = f"{path}:{line}"
        require(record, {"states": list, "actions": list}, where)
        states, actions = record["states"], record["actions"]
        if not all(isinstance(text, str) for text in states + actions):
            raise ValueError(f"{where}: states and actions are lists of strings")
        if not states or len(states) not in (len(actions), len(actions) + 1):
            raise ValueError(f"{where}: {len(states)} states for {len(actions)} actions "
                             f"(one state before each action, and maybe one after the last)")
        task = task_text(WEBSHOP, states[0])
        task_id = ""
        if goals is not None:
            if goal_key(task) not in index:
                raise ValueError(f"{where}: instruction {goal_key(task)!r} is not in the human goals")
            task_id = f"all-{index[goal_key(task)]:04d}"
        walk = Trajectory(WEBSHOP, task_id, task, states[0])
        for number, action in enumerate(actions):
            recorded = number + 1 < len(states)
            answer = states[number + 1] if recorded else ""
            walk.add_step(action, answer, 0.0, infer_grounded(WEBSHOP, action, states[number], answer, recorded))
        walks.append(walk)
    return walks
