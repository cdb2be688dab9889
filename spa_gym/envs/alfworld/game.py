"""A compiled ALFWorld game: display names, indices and the initial state, ready to play.

Naming follows ALFWorld's demangler: an id's class is the part before its first ``_bar_`` (with
``basin`` appended when the id contains ``basin``), ids are sorted, and each class is numbered
from its count down to 1 in that order, so the first id gets the highest number. Every list the
engine prints follows that sorted-id order, which is why lists read "a cabinet 3, a cabinet 2,
a cabinet 1". Entity indices below are positions in the sorted-id order, so sorting indices
sorts the lists.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from .actions import GOTO
from .problem import GRAMMARS, Goal, Problem


def class_of(entity_id: str) -> str:
    """The demangled class of a (lowercase) PDDL id.

    Example:
        >>> class_of("sink_bar__minus_01_dot_12_bar__plus_00_dot_24_bar_sinkbasin")
        'sinkbasin'
        >>> class_of("loc_bar_4_bar_5_bar_3_bar_30")
        'loc'
    """
    head = entity_id.split("_bar_", 1)[0]
    return head + "basin" if "basin" in entity_id else head


def demangle(ids: list[str]) -> dict[str, str]:
    """Display names for ids: ``<class> <n>``, numbered per class from the count down to 1 in sorted order.

    Example:
        >>> demangle(["cabinet_bar_a", "cabinet_bar_b", "loc_bar_1"])
        {'cabinet_bar_a': 'cabinet 2', 'cabinet_bar_b': 'cabinet 1', 'loc_bar_1': 'loc 1'}
    """
    by_class: dict[str, list[str]] = defaultdict(list)
    for entity_id in sorted(set(ids)):
        by_class[class_of(entity_id)].append(entity_id)
    names: dict[str, str] = {}
    for cls, members in by_class.items():
        for rank, entity_id in enumerate(members):
            names[entity_id] = f"{cls} {len(members) - rank}"
    return names


@dataclass(frozen=True)
class InitialState:
    """The dynamic facts at reset, by index."""

    agent_location: int
    opened: tuple[bool, ...]
    in_receptacle: frozenset[tuple[int, int]]
    object_at_location: frozenset[tuple[int, int]]
    flags: dict[str, frozenset[int]]


@dataclass(frozen=True)
class Game:
    """Everything static about one game, plus its initial state. Shared by all episodes of the game."""

    receptacle_ids: tuple[str, ...]
    receptacle_names: tuple[str, ...]
    receptacle_types: tuple[str, ...]
    receptacle_location: tuple[int, ...]
    openable: tuple[bool, ...]
    object_ids: tuple[str, ...]
    object_names: tuple[str, ...]
    object_types: tuple[str, ...]
    object_flags: dict[str, frozenset[int]]  # static affordances: pickupable, cleanable, ...
    contents_of_object: tuple[tuple[int, ...], ...]  # inReceptacleObject: outer -> inners
    location_ids: tuple[str, ...]
    location_names: tuple[str, ...]
    receptacles_at: tuple[tuple[int, ...], ...]  # location -> receptacles there, sorted
    goto_table: dict[str, tuple[int, int]]  # "go to R" -> (GOTO, r) for every receptacle
    can_contain: frozenset[tuple[str, str]]
    goal: Goal
    goal_text: str
    grammar: str
    initial: InitialState
    walkthrough: tuple[str, ...] | None = None
    source: str = ""


STATIC_FLAGS = ("pickupable", "isreceptacleobject", "cleanable", "heatable", "coolable", "toggleable", "sliceable")
DYNAMIC_FLAGS = ("isclean", "ishot", "iscool", "ison", "istoggled", "issliced")


def compile_game(problem: Problem, source: str = "") -> Game:
    """Name, index and freeze a :class:`Problem`. ``source`` names it in error messages.

    Raises ``ValueError`` naming ``source`` when the problem is inconsistent.
    """
    where = f" in {source}" if source else ""
    if problem.goal is None:
        raise ValueError(f"the problem has no goal{where}")
    if problem.grammar not in GRAMMARS:
        raise ValueError(f"unknown grammar {problem.grammar!r}{where}; expected one of {GRAMMARS}")
    if problem.agent_location not in problem.locations:
        raise ValueError(f"the agent's start location {problem.agent_location!r} is not a declared location{where}")
    receptacle_ids = tuple(sorted(problem.receptacle_types))
    object_ids = tuple(sorted(problem.object_types))
    location_ids = tuple(sorted(set(problem.locations)))
    names = demangle([*receptacle_ids, *object_ids, *location_ids])
    r_index = {rid: i for i, rid in enumerate(receptacle_ids)}
    o_index = {oid: i for i, oid in enumerate(object_ids)}
    l_index = {lid: i for i, lid in enumerate(location_ids)}

    missing = [rid for rid in receptacle_ids if rid not in problem.receptacle_location]
    if missing:
        raise ValueError(f"receptacle {missing[0]!r} has no location{where}")
    receptacle_location = tuple(l_index[problem.receptacle_location[rid]] for rid in receptacle_ids)
    receptacles_at: list[list[int]] = [[] for _ in location_ids]
    for r, loc in enumerate(receptacle_location):
        receptacles_at[loc].append(r)

    def objects(ids: set[str]) -> frozenset[int]:
        return frozenset(o_index[i] for i in ids if i in o_index)

    contents_of_object: list[list[int]] = [[] for _ in object_ids]
    for inner, outer in problem.in_receptacle_object:
        if inner in o_index and outer in o_index:
            contents_of_object[o_index[outer]].append(o_index[inner])

    initial = InitialState(
        agent_location=l_index[problem.agent_location],
        opened=tuple(rid in problem.opened for rid in receptacle_ids),
        in_receptacle=frozenset(
            (o_index[o], r_index[r]) for o, r in problem.in_receptacle if o in o_index and r in r_index
        ),
        object_at_location=frozenset(
            (o_index[o], l_index[loc]) for o, loc in problem.object_at_location if o in o_index and loc in l_index
        ),
        flags={flag: objects(problem.flags.get(flag, set())) for flag in DYNAMIC_FLAGS},
    )
    return Game(
        receptacle_ids=receptacle_ids,
        receptacle_names=tuple(names[i] for i in receptacle_ids),
        receptacle_types=tuple(problem.receptacle_types[i] for i in receptacle_ids),
        receptacle_location=receptacle_location,
        openable=tuple(rid in problem.openable for rid in receptacle_ids),
        object_ids=object_ids,
        object_names=tuple(names[i] for i in object_ids),
        object_types=tuple(problem.object_types[i] for i in object_ids),
        object_flags={flag: objects(problem.flags.get(flag, set())) for flag in STATIC_FLAGS},
        contents_of_object=tuple(tuple(sorted(c)) for c in contents_of_object),
        location_ids=location_ids,
        location_names=tuple(names[i] for i in location_ids),
        receptacles_at=tuple(tuple(rs) for rs in receptacles_at),
        goto_table={f"go to {names[rid]}": (GOTO, r) for r, rid in enumerate(receptacle_ids)},
        can_contain=frozenset(problem.can_contain),
        goal=problem.goal,
        goal_text=problem.goal_text,
        grammar=problem.grammar,
        initial=initial,
        walkthrough=tuple(problem.walkthrough) if problem.walkthrough is not None else None,
        source=source,
    )
