"""The trajectory formats the field exchanges, read and written as spa-gym trajectories.

- ``spa-gym``: spa-gym's own JSONL (:mod:`spa_gym.data.trajectories`), records with ``schema_version``;
- ``eto``: ETO / AgentBank SFT data, ``{id, conversations: [{from, value}]}`` (:mod:`.eto`);
- ``agentgym``: AgentGym's AgentTraj, ``{item_id, conversations: [{from, loss, value}]}`` (:mod:`.agentgym`);
- ``spa-rl-explore``: SPA-RL's rollouts, ``{id, iteration, agent_conversations, agent_final_reward, ...}``;
- ``spa-rl-estimator``: SPA-RL's estimator data, ``{conversations, agent_final_reward, id, iteration,
  success}`` (both :mod:`.spa_rl`);
- ``webshop-il``: WebShop's human demonstrations, ``{states, actions, available_actions, action_idxs,
  ...}`` (:mod:`.webshop_il`), read only.

The first record's keys tell the format. Each format module says what a round trip keeps and
loses (none of the field's formats has spa-gym's ``Step.state_key``: ``spa-gym replay`` recomputes
the keys); :mod:`.inference` how the fields a format lacks (env id, ``grounded``, step rewards, task
ids) are filled in; :mod:`.conversation` how chats map to trajectories. :func:`load_trajectories`
reads any of them (the format detected), :func:`convert` turns one into another, keeping the
chats' instructions and in-context examples.

Example:
    >>> import tempfile, pathlib
    >>> from spa_gym.data.trajectories import Trajectory, TrajectoryWriter
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> walk = Trajectory("SPA-ALFWorld-v0", "train-0001", "put a mug in sinkbasin",
    ...                   "You are in a room.\\n\\nYour task is to: put a mug in sinkbasin.")
    >>> walk.add_step("go to sinkbasin 1", "You arrive at sinkbasin 1.", 0.0, True)
    >>> with TrajectoryWriter(folder / "walks.jsonl") as writer:
    ...     writer.write(walk)
    >>> convert(folder / "walks.jsonl", folder / "walks.json", to="spa-rl-explore")
    1
    >>> detect(folder / "walks.json")
    'spa-rl-explore'
    >>> load_trajectories(folder / "walks.json") == [walk]
    True
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..trajectories import Trajectory, TrajectoryWriter, read_trajectories
from . import agentgym, eto, spa_rl, webshop_il
from .conversation import Assistant, Conversation, Preamble, instruction_preamble
from .records import first_record

__all__ = [
    "ALL_FIELDS",
    "FORMATS",
    "Conversation",
    "Format",
    "Preamble",
    "convert",
    "detect",
    "get_format",
    "instruction_preamble",
    "load_trajectories",
    "write_trajectories",
]

#: The fields of a trajectory a format can record as the env gave them (what a replay can check).
ALL_FIELDS: tuple[str, ...] = ("observation", "reward", "grounded", "won")


def _write_spa_gym(items: Iterable[Trajectory | Conversation], path: str | os.PathLike[str], *,
                   preamble: Preamble | None = None, assistant: Assistant | None = None) -> int:
    """Write spa-gym JSONL (no preamble or assistant turns there: ``raw_output`` is the model's text)."""
    count = 0
    with TrajectoryWriter(path, append=False) as writer:
        for item in items:
            writer.write(item.trajectory if isinstance(item, Conversation) else item)
            count += 1
    return count


@dataclass(frozen=True)
class Format:
    """One format: how to tell it, read it, and (if it can) write it.

    ``keys``: fields a record of it always has (the first record's keys tell the format).
    ``read(path, **options)`` gives trajectories; ``parse(path, **options)``, for chat formats,
    conversations (trajectories with their preambles); ``write(items, path, *, preamble,
    assistant)`` returns how many it wrote. ``recorded``: the fields the format records as the env
    gave them, the ones a replay can check (see :mod:`spa_gym.data.replay`). ``rewarded``: whether
    its records hold the episode's final reward (without it every trajectory reads as R = 0: fine
    for SFT, not for training the progress estimator; a replay rescores them).
    """

    name: str
    keys: tuple[str, ...]
    read: Callable[..., list[Trajectory]]
    write: Callable[..., int] | None = None
    parse: Callable[..., list[Conversation]] | None = None
    recorded: tuple[str, ...] = ("observation",)
    rewarded: bool = False


#: The formats by name, in the order :func:`detect` tries them.
FORMATS: dict[str, Format] = {
    format.name: format
    for format in (
        Format("spa-gym", ("schema_version",), read_trajectories, _write_spa_gym, recorded=ALL_FIELDS,
               rewarded=True),
        Format("webshop-il", webshop_il.KEYS, webshop_il.read),
        Format("spa-rl-explore", spa_rl.EXPLORE_KEYS, spa_rl.read_explore, spa_rl.write_explore,
               spa_rl.parse_explore, rewarded=True),
        Format("spa-rl-estimator", spa_rl.ESTIMATOR_KEYS, spa_rl.read_estimator, spa_rl.write_estimator,
               spa_rl.parse_estimator, rewarded=True),
        Format("agentgym", agentgym.KEYS, agentgym.read, agentgym.write, agentgym.parse),
        Format("eto", eto.KEYS, eto.read, eto.write, eto.parse),
    )
}


def get_format(name: str) -> Format:
    """The format called ``name``; ``ValueError`` naming the formats for any other."""
    if name not in FORMATS:
        raise ValueError(f"unknown trajectory format {name!r}; expected one of {', '.join(FORMATS)}")
    return FORMATS[name]


def detect(path: str | os.PathLike[str]) -> str:
    """The name of the format of a file, told by its first record's keys.

    Raises ``ValueError`` (naming the file and line) for an empty file or a record of no known format.
    """
    found = first_record(path)
    if found is None:
        raise ValueError(f"{path}: no records, so no format to detect; pass the format")
    line, record = found
    if isinstance(record, dict):
        for format in FORMATS.values():
            if all(key in record for key in format.keys):
                return format.name
    keys = sorted(record) if isinstance(record, dict) else type(record).__name__
    raise ValueError(f"{path}:{line}: a record of no known trajectory format (keys {keys}); "
                     f"known: {', '.join(FORMATS)}")


def load_trajectories(path: str | os.PathLike[str], format: str | None = None, **options: Any) -> list[Trajectory]:
    """The trajectories of a file of any format (``format=None``: detected). ``options`` go to the
    format's reader: ``env_id`` and ``preamble_turns`` (chat formats), ``human_goals`` (``webshop-il``).

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "sft.json"
        >>> _ = path.write_text('[{"id": "train-0001", "conversations": ['
        ...     '{"from": "human", "value": "You are in a room.\\\\nYour task is to: look."},'
        ...     '{"from": "gpt", "value": "Thought: easy.\\\\nAction: look"}]}]')
        >>> [walk] = load_trajectories(path)
        >>> walk.env_id, walk.task, walk.steps[0].action, walk.steps[0].raw_output
        ('SPA-ALFWorld-v0', 'look', 'look', 'Thought: easy.\\nAction: look')
    """
    return get_format(format or detect(path)).read(path, **options)


def write_trajectories(
    items: Iterable[Trajectory | Conversation],
    path: str | os.PathLike[str],
    format: str,
    *,
    preamble: Preamble | None = None,
    assistant: Assistant | None = None,
) -> int:
    """Write trajectories (or conversations) in ``format``; returns how many. ``preamble`` (chat
    formats) replaces each conversation's own; ``assistant`` writes a step's assistant turn (default:
    its ``raw_output``, or ``"Action: <action>"``). ``ValueError`` for a format that cannot be written."""
    target = get_format(format)
    if target.write is None:
        raise ValueError(f"the {format} format is read-only: a trajectory lacks what its records hold")
    return target.write(items, path, preamble=preamble, assistant=assistant)


def convert(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    to: str,
    from_: str | None = None,
    *,
    preamble: Preamble | None = None,
    assistant: Assistant | None = None,
    **options: Any,
) -> int:
    """Convert the file ``src`` (format ``from_``, default detected) into ``dst`` in format ``to``;
    returns how many trajectories. From one chat format to another each record keeps its preamble
    (instruction, in-context example) unless ``preamble`` is given; ``options`` go to the reader."""
    source = get_format(from_ or detect(src))
    if get_format(to).write is None:
        raise ValueError(f"the {to} format is read-only: a trajectory lacks what its records hold")
    items = source.parse(src, **options) if source.parse is not None else source.read(src, **options)
    return write_trajectories(items, dst, to, preamble=preamble, assistant=assistant)
