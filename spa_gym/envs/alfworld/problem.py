"""A game as ALFWorld's PDDL problem states it: typed ids and ground facts, before naming.

Both sources of games produce a :class:`Problem`: the parser of real ``game.tw-pddl`` files
(:mod:`.pddl`) and the procedural scene generator (:mod:`.scenes`). :func:`.game.compile_game`
turns it into a playable :class:`.game.Game`. Ids and types are lowercase, as Fast Downward
lowercases them; types drop their ``Type`` suffix (``CabinetType`` -> ``cabinet``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: The six ALFWorld task types, in ALFWorld's id order (1-6).
TASK_TYPES: tuple[str, ...] = (
    "pick_and_place_simple",
    "look_at_obj_in_light",
    "pick_clean_then_place_in_recep",
    "pick_heat_then_place_in_recep",
    "pick_cool_then_place_in_recep",
    "pick_two_obj_and_place",
)

#: Object flags a problem may set (PDDL predicate names, lowercase).
OBJECT_FLAGS: tuple[str, ...] = (
    "pickupable",
    "isreceptacleobject",
    "cleanable",
    "heatable",
    "coolable",
    "toggleable",
    "sliceable",
    "isclean",
    "ishot",
    "iscool",
    "ison",
    "istoggled",
    "issliced",
)

#: The two text versions of ALFWorld data: 2.1.1 (``put X in/on Y``) and 2.1.2/2.1.3 (``move X to Y``).
GRAMMARS: tuple[str, ...] = ("2.1.1", "2.1.3")


@dataclass(frozen=True)
class Goal:
    """What a task asks for: ALFWorld's ``task_type`` and its ``pddl_params`` targets (lowercase)."""

    task_type: str
    object_type: str
    parent_type: str = ""
    toggle_type: str = ""

    def __post_init__(self) -> None:
        if self.task_type not in TASK_TYPES:
            raise ValueError(f"unknown ALFWorld task type {self.task_type!r}; expected one of {TASK_TYPES}")


@dataclass
class Problem:
    """Typed ids and ground facts of one ALFWorld game."""

    receptacle_types: dict[str, str] = field(default_factory=dict)  # receptacle id -> rtype
    receptacle_location: dict[str, str] = field(default_factory=dict)  # receptacle id -> location id
    object_types: dict[str, str] = field(default_factory=dict)  # object id -> otype
    locations: list[str] = field(default_factory=list)
    agent_location: str = ""
    openable: set[str] = field(default_factory=set)
    opened: set[str] = field(default_factory=set)
    flags: dict[str, set[str]] = field(default_factory=lambda: {f: set() for f in OBJECT_FLAGS})
    in_receptacle: set[tuple[str, str]] = field(default_factory=set)  # (object, receptacle)
    object_at_location: set[tuple[str, str]] = field(default_factory=set)  # (object, location)
    in_receptacle_object: set[tuple[str, str]] = field(default_factory=set)  # (inner, outer)
    can_contain: set[tuple[str, str]] = field(default_factory=set)  # (rtype, otype)
    goal: Goal | None = None
    goal_text: str = ""
    grammar: str = "2.1.1"
    walkthrough: list[str] | None = None
