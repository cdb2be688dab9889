"""SPA-RL's records: the exploration rollouts and the progress estimator's training data.

- **Exploration** (``spa-rl-explore``), one record per rollout: ``{"id", "iteration",
  "agent_conversations": [{"role": "user"|"assistant", "content"}], "agent_final_reward", ...}``
  plus ``success`` on WebShop, ``game_file`` on ALFWorld, ``path`` on VirtualHome. The
  conversation is the whole prompt (:mod:`.conversation`): the instruction, ``OK``, one in-context
  example episode (8 turns on WebShop, 10 on ALFWorld), then the rollout, in ETO's harness style.
- **Estimator data** (``spa-rl-estimator``), what SPA-RL's ``prm/data_org.py`` makes of them:
  ``{"conversations": [{"from": "human"|"gpt", "value"}], "agent_final_reward", "id", "iteration",
  "success"}``, without the in-context example and without the last observation.

``agent_final_reward`` is WebShop's score, ALFWorld's and VirtualHome's binary success; ``won`` is
``agent_final_reward == 1``. ``success`` on WebShop means the rollout bought something (any
reward); spa-gym writes that, and on the other envs (where SPA-RL has no such field) ``won``.
``id`` is the task: WebShop's goal index (spa-gym's ``all-<g:04d>``); on ALFWorld the task id is
``game_file`` (a game file spa-gym's env plays, ``reset(options={"task_id": path})``).

What a round trip keeps and loses:

- kept: the preamble (per record), every turn's text, the task id, the final reward;
- not in the format: the env id (an exploration record's env field tells it, else it is inferred
  from the first observation), ``grounded`` and the rewards before the last step (inferred,
  :mod:`.inference`); estimator data lacks the last observation (read as ``""``, its step counted
  as grounded);
- recomputed on writing: ``iteration`` is the rollout's number (from 0) among the file's rollouts of
  the same task, as SPA-RL numbers a task's rollouts; a VirtualHome ``path`` and an ALFWorld ``id``
  are written as the task id; other fields (``time``) are dropped; a ``raw_output`` from which the
  action rule would not read the action sent gets a last ``Action: <action>`` line.

Example:
    >>> import json, tempfile, pathlib
    >>> from spa_gym.data.trajectories import Trajectory
    >>> walk = Trajectory("SPA-WebShop-v0", "all-0013", "i need a lamp",
    ...                   "WebShop [SEP] Instruction: [SEP] i need a lamp [SEP] Search")
    >>> walk.add_step("search[lamp]", "Instruction: [SEP] i need a lamp [SEP] Back to Search", 0.0, True)
    >>> walk.add_step("click[b000000001]", "Instruction: [SEP] i need a lamp [SEP] Buy Now", 0.0, False)
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> write_explore([walk, walk], folder / "exploration.json")
    2
    >>> [(r["id"], r["iteration"], r["success"]) for r in json.loads((folder / "exploration.json").read_text())]
    [(13, 0, False), (13, 1, False)]
    >>> read_explore(folder / "exploration.json")[0] == walk
    True
    >>> write_estimator([walk], folder / "estimator.json")
    1
    >>> read_estimator(folder / "estimator.json")[0].steps[-1].observation  # not in estimator data
    ''
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from typing import Any

from ..trajectories import Trajectory
from .conversation import (
    ETO_STYLE,
    Assistant,
    Conversation,
    Preamble,
    as_conversation,
    from_turns,
    read_turns,
    to_turns,
)
from .inference import ALFWORLD, VIRTUALHOME, WEBSHOP, external_task_id, purchased
from .records import iter_records, require, write_records

__all__ = [
    "ESTIMATOR_KEYS",
    "EXPLORE_KEYS",
    "parse_estimator",
    "parse_explore",
    "read_estimator",
    "read_explore",
    "write_estimator",
    "write_explore",
]

#: The keys that identify an exploration record.
EXPLORE_KEYS: tuple[str, ...] = ("agent_conversations",)
#: The keys that identify an estimator record.
ESTIMATOR_KEYS: tuple[str, ...] = ("conversations", "agent_final_reward")
#: The env-specific field of an exploration record, by env id.
ENV_FIELDS: dict[str, str] = {WEBSHOP: "success", ALFWORLD: "game_file", VIRTUALHOME: "path"}
_ROLES = {"user": "human", "assistant": "gpt"}
_NUMBER = (int, float)


def _parse(path: str | os.PathLike[str], env_id: str | None, preamble_turns: int | None,
           explore: bool) -> list[Conversation]:
    talks = []
    for line, record in iter_records(path):
        where = f"{path}:{line}"
        if explore:
            require(record, {"id": (int, str), "agent_conversations": list, "agent_final_reward": _NUMBER}, where)
            turns = read_turns(record["agent_conversations"], where, "role", "content", _ROLES)
        else:
            require(record, {"id": (int, str), "conversations": list, "agent_final_reward": _NUMBER}, where)
            turns = read_turns(record["conversations"], where)
        env = env_id or next((env for env, key in ENV_FIELDS.items() if explore and key in record), None)
        task_id = record["id"]
        if env == ALFWORLD and "game_file" in record:
            task_id = require(record, {"game_file": str}, where)["game_file"]
        talks.append(from_turns(turns, ETO_STYLE, where, task_id=task_id, final_reward=record["agent_final_reward"],
                                env_id=env, preamble_turns=preamble_turns))
    return talks


def parse_explore(path: str | os.PathLike[str], env_id: str | None = None,
                  preamble_turns: int | None = None) -> list[Conversation]:
    """The rollouts of an exploration file, with their preambles. ``env_id`` overrides the env told
    by the record's fields; ``preamble_turns``: where the rollout starts (default: detected)."""
    return _parse(path, env_id, preamble_turns, explore=True)


def parse_estimator(path: str | os.PathLike[str], env_id: str | None = None,
                    preamble_turns: int | None = None) -> list[Conversation]:
    """The trajectories of an estimator-data file, with their preambles (see :func:`parse_explore`)."""
    return _parse(path, env_id, preamble_turns, explore=False)


def read_explore(path: str | os.PathLike[str], env_id: str | None = None,
                 preamble_turns: int | None = None) -> list[Trajectory]:
    """The trajectories of an exploration file (see :func:`parse_explore`)."""
    return [talk.trajectory for talk in parse_explore(path, env_id, preamble_turns)]


def read_estimator(path: str | os.PathLike[str], env_id: str | None = None,
                   preamble_turns: int | None = None) -> list[Trajectory]:
    """The trajectories of an estimator-data file (see :func:`parse_explore`)."""
    return [talk.trajectory for talk in parse_estimator(path, env_id, preamble_turns)]


def _success(walk: Trajectory) -> bool:
    return purchased([step.action for step in walk.steps]) if walk.env_id == WEBSHOP else walk.won


def _records(items: Iterable[Trajectory | Conversation], preamble: Preamble | None,
             assistant: Assistant | None, explore: bool) -> list[dict[str, Any]]:
    records, rollouts = [], Counter[tuple[str, str]]()
    for item in items:
        walk, opening = as_conversation(item, preamble)
        external = external_task_id(walk.env_id, walk.task_id)
        iteration = rollouts[walk.env_id, walk.task_id]
        rollouts[walk.env_id, walk.task_id] += 1
        if explore:
            turns = to_turns(walk, ETO_STYLE, preamble=opening, assistant=assistant)
            record: dict[str, Any] = {
                "id": external, "iteration": iteration,
                "agent_conversations": [{"role": "user" if role == "human" else "assistant", "content": text}
                                        for role, text in turns],
                "agent_final_reward": walk.final_reward,
            }
            if walk.env_id in ENV_FIELDS:
                record[ENV_FIELDS[walk.env_id]] = _success(walk) if walk.env_id == WEBSHOP else walk.task_id
        else:
            turns = to_turns(walk, ETO_STYLE, preamble=Preamble(opening.head), assistant=assistant,
                             final_observation=False)
            record = {"conversations": [{"from": role, "value": text} for role, text in turns],
                      "agent_final_reward": walk.final_reward, "id": external, "iteration": iteration,
                      "success": _success(walk)}
        records.append(record)
    return records


def write_explore(
    items: Iterable[Trajectory | Conversation],
    path: str | os.PathLike[str],
    *,
    preamble: Preamble | None = None,
    assistant: Assistant | None = None,
) -> int:
    """Write rollouts as exploration records (``preamble`` replaces each conversation's own, example
    included); returns how many. A ``.jsonl`` path gets JSONL, any other a JSON array."""
    return write_records(_records(items, preamble, assistant, explore=True), path)


def write_estimator(
    items: Iterable[Trajectory | Conversation],
    path: str | os.PathLike[str],
    *,
    preamble: Preamble | None = None,
    assistant: Assistant | None = None,
) -> int:
    """Write trajectories as estimator records, as ``data_org.py`` does: the preamble's head only (no
    in-context example) and no last observation; returns how many."""
    return write_records(_records(items, preamble, assistant, explore=False), path)
