"""AgentGym's AgentTraj: ``{"item_id": "webshop_<idx>", "conversations": [{"from", "loss", "value"}]}``.

One record per episode, one file per env, as a JSON array (``webshop_train.json``) or JSONL.
``item_id`` is ``<env>_<task>``: ``webshop_<goal index>`` (spa-gym's ``all-<g:04d>``),
``alfworld_<...>``; spa-gym writes ``virtualhome_<task id>`` for VirtualHome, which AgentGym does
not have. The conversation (:mod:`.conversation`): the instruction, the acknowledgement, then the
episode with the env's observations as they are (no ``Observation:`` prefix). ``loss`` says which
turns are trained: written True on the episode's assistant turns, False on every other turn.

What a round trip keeps and loses:

- kept: the preamble (per record), every turn's text, the task id;
- not in the format: rewards and ``won`` (read as 0 and False), the env id of an unknown
  ``<env>_`` prefix (inferred) and ``grounded`` (inferred, :mod:`.inference`);
- normalised: ``loss`` flags that differ from the rule above are not kept; a ``raw_output`` from
  which the action rule would not read the action sent gets a last ``Action: <action>`` line.

Example:
    >>> import json, tempfile, pathlib
    >>> from spa_gym.data.trajectories import Trajectory
    >>> walk = Trajectory("SPA-WebShop-v0", "all-0013", "i need a lamp",
    ...                   "WebShop [SEP] Instruction: [SEP] i need a lamp [SEP] Search")
    >>> walk.add_step("search[lamp]", "Instruction: [SEP] i need a lamp [SEP] Back to Search", 0.0, True)
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "webshop_train.json"
    >>> write([walk], path)
    1
    >>> record = json.loads(path.read_text())[0]
    >>> record["item_id"], [(turn["from"], turn["loss"]) for turn in record["conversations"]]
    ('webshop_13', [('human', False), ('gpt', True), ('human', False)])
    >>> read(path)[0] == walk
    True
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from ..trajectories import Trajectory
from .conversation import (
    AGENTGYM_STYLE,
    GPT,
    Assistant,
    Conversation,
    Preamble,
    as_conversation,
    from_turns,
    read_turns,
    to_turns,
)
from .inference import ALFWORLD, VIRTUALHOME, WEBSHOP, external_task_id
from .records import iter_records, require, write_records

__all__ = ["ENV_PREFIXES", "KEYS", "parse", "read", "write"]

#: The keys that identify a record of this format.
KEYS: tuple[str, ...] = ("item_id", "conversations")
#: ``item_id`` prefix -> env id.
ENV_PREFIXES: dict[str, str] = {"webshop": WEBSHOP, "alfworld": ALFWORLD, "virtualhome": VIRTUALHOME}
_PREFIX_OF = {env_id: prefix for prefix, env_id in ENV_PREFIXES.items()}


def parse(
    path: str | os.PathLike[str], env_id: str | None = None, preamble_turns: int | None = None
) -> list[Conversation]:
    """The conversations of a file: its trajectories with their preambles. ``env_id`` overrides the
    ``item_id`` prefix; ``preamble_turns``: where the task starts (default: after the acknowledgement)."""
    talks = []
    for line, record in iter_records(path):
        where = f"{path}:{line}"
        require(record, {"item_id": str, "conversations": list}, where)
        for number, turn in enumerate(record["conversations"]):
            if isinstance(turn, dict) and not isinstance(turn.get("loss"), bool | None):
                raise ValueError(f"{where}: turn {number}'s loss is {turn['loss']!r}, not true, false or null")
        prefix, _, rest = record["item_id"].partition("_")
        known = ENV_PREFIXES.get(prefix) if rest else None
        talks.append(from_turns(read_turns(record["conversations"], where), AGENTGYM_STYLE, where,
                                task_id=rest if known else record["item_id"], final_reward=0.0,
                                env_id=env_id or known, preamble_turns=preamble_turns))
    return talks


def read(
    path: str | os.PathLike[str], env_id: str | None = None, preamble_turns: int | None = None
) -> list[Trajectory]:
    """The trajectories of a file (see :func:`parse`)."""
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
        if walk.env_id not in _PREFIX_OF:
            raise ValueError(f"AgentGym item ids exist for {sorted(_PREFIX_OF)}, not {walk.env_id!r}")
        turns = to_turns(walk, AGENTGYM_STYLE, preamble=opening, assistant=assistant)
        records.append({
            "item_id": f"{_PREFIX_OF[walk.env_id]}_{external_task_id(walk.env_id, walk.task_id)}",
            "conversations": [{"from": role, "loss": role == GPT and number >= 0, "value": text}
                              for number, (role, text) in enumerate(turns, start=-len(opening.turns))],
        })
    return write_records(records, path)
