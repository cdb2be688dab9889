"""ETO / AgentBank SFT data: ``{"id": ..., "conversations": [{"from": "human"|"gpt", "value": ...}]}``.

One record per episode, in a JSON array file (``webshop_sft.json``) or JSONL. The conversation is
laid out as :mod:`.conversation` describes: observations after the first are prefixed
``Observation:\\n`` on WebShop, as ETO's harness does, and ``Observation: `` on the other envs
(spa-gym's choice; the sources read do not show ETO's there, and reading accepts either). ``id``
is the task: on WebShop the goal index (spa-gym's ``all-<g:04d>``), elsewhere kept as a string
(:mod:`.inference`).

What a round trip keeps and loses:

- kept: the preamble (per record, through :func:`parse` / :class:`.Conversation`), every turn's
  text, the task id;
- not in the format: rewards and ``won`` (read as 0 and False; :func:`spa_gym.data.replay.replay`
  recomputes them), the env id and ``grounded`` (inferred, :mod:`.inference`);
- normalised: a non-WebShop ``id`` that is a number is written back as a string; an observation
  prefix other than the env's usual one is written back as the usual one; a ``raw_output`` from
  which the action rule would not read the action sent gets a last ``Action: <action>`` line.

Example:
    >>> import json, tempfile, pathlib
    >>> from spa_gym.data.trajectories import Trajectory
    >>> walk = Trajectory("SPA-ALFWorld-v0", "train-0001", "put a mug in sinkbasin",
    ...                   "You are in a room.\\n\\nYour task is to: put a mug in sinkbasin.")
    >>> walk.add_step("go to sinkbasin 1", "You arrive at sinkbasin 1.", 0.0, True)
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "sft.json"
    >>> write([walk], path, preamble=instruction_preamble("Interact with a household."))
    1
    >>> record = json.loads(path.read_text())[0]
    >>> [turn["value"] for turn in record["conversations"]][1:]
    ['OK', 'You are in a room.\\n\\nYour task is to: put a mug in sinkbasin.', 'Action: go to sinkbasin 1', \
'Observation: You arrive at sinkbasin 1.']
    >>> read(path)[0] == walk
    True
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from ..trajectories import Trajectory
from .conversation import (
    ETO_STYLE,
    Assistant,
    Conversation,
    Preamble,
    as_conversation,
    from_turns,
    instruction_preamble,
    read_turns,
    to_turns,
)
from .inference import external_task_id
from .records import iter_records, require, write_records

__all__ = ["KEYS", "instruction_preamble", "parse", "read", "write"]

#: The keys that identify a record of this format.
KEYS: tuple[str, ...] = ("id", "conversations")


def parse(
    path: str | os.PathLike[str], env_id: str | None = None, preamble_turns: int | None = None
) -> list[Conversation]:
    """The conversations of a file: its trajectories with their preambles."""
    talks = []
    for line, record in iter_records(path):
        where = f"{path}:{line}"
        require(record, {"id": (int, str), "conversations": list}, where)
        talks.append(from_turns(read_turns(record["conversations"], where), ETO_STYLE, where,
                                task_id=record["id"], final_reward=0.0, env_id=env_id, preamble_turns=preamble_turns))
    return talks


def read(
    path: str | os.PathLike[str], env_id: str | None = None, preamble_turns: int | None = None
) -> list[Trajectory]:
    """The trajectories of a file. ``env_id``: the env of every record (default: inferred from each
    record's first observation); ``preamble_turns``: where the task starts (default: detected)."""
    return [talk.trajectory for talk in parse(path, env_id, preamble_turns)]


def write(
    items: Iterable[Trajectory | Conversation],
    path: str | os.PathLike[str],
    *,
    preamble: Preamble | None = None,
    assistant: Assistant | None = None,
) -> int:
    """Write trajectories (or conversations) as records; ``preamble`` replaces each conversation's
    own; returns how many. A ``.jsonl`` path gets JSONL, any other a JSON array."""
    records = []
    for item in items:
        walk, opening = as_conversation(item, preamble)
        turns = to_turns(walk, ETO_STYLE, preamble=opening, assistant=assistant)
        records.append({"id": external_task_id(walk.env_id, walk.task_id),
                        "conversations": [{"from": role, "value": text} for role, text in turns]})
    return write_records(records, path)

