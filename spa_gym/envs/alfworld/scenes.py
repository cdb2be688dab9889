"""Procedural ALFWorld scenes: 120 fixed room layouts and a seeded generator of playable problems.

The real ALFWorld games come from 120 AI2-THOR floor plans (30 kitchens, living rooms, bedrooms and
bathrooms). None of them can be downloaded here, so this module builds its own 120 layouts from
per-room templates whose receptacle and object statistics follow ALFRED's scenes (ALFWorld's
``alfworld/gen/layouts`` files and the room intros of public game traces). A :class:`Layout` fixes
the furniture: receptacles, which of them share a point (stove burners, stacked drawers, cabinet
pairs), the lamps and other fixed decor, and the object types that occur in the room.
:func:`generate_problem` then places 1-3 instances of every object type, seeded by the caller's
``random.Random``, and returns a :class:`~.problem.Problem` that :func:`~.game.compile_game` turns
into a playable game.

Facts follow ALFRED: which receptacle can hold which object (``CAN_CONTAIN``, in the spirit of
ALFRED's ``VAL_RECEPTACLE_OBJECTS``), the affordances of each object type (§1.3), the rooms in
which each task type is valid (``ROOMS_FOR_TASK``) and the two goal sentences per task type (§1.7).
The tables are written out here; no ALFWorld code is used.

Ids follow the real data closely enough for the demangler of :mod:`.game`: ``cabinet_bar_004``,
``sink_bar_000_bar_sinkbasin`` (the demangler appends "basin"), ``apple_bar_002``,
``loc_bar_017``. Layouts are versioned by :data:`SCENES_VERSION`; changing any table or the layout
builder changes the games, so bump it then.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

from .problem import OBJECT_FLAGS, TASK_TYPES, Goal, Problem

SCENES_VERSION = "1"

ROOM_TYPES: tuple[str, ...] = ("kitchen", "livingroom", "bedroom", "bathroom")

#: ALFWorld's ``GOALS_VALID``: the rooms in which each task type is generated.
ROOMS_FOR_TASK: dict[str, tuple[str, ...]] = {
    "pick_and_place_simple": ROOM_TYPES,
    "look_at_obj_in_light": ("livingroom", "bedroom"),
    "pick_clean_then_place_in_recep": ("kitchen", "bathroom"),
    "pick_heat_then_place_in_recep": ("kitchen",),
    "pick_cool_then_place_in_recep": ("kitchen",),
    "pick_two_obj_and_place": ROOM_TYPES,
}

#: First layout id per room type (ALFRED's floor-plan numbering: 1-30, 201-230, 301-330, 401-430).
_FIRST_ID = {"kitchen": 1, "livingroom": 201, "bedroom": 301, "bathroom": 401}
LAYOUTS_PER_ROOM = 30

# --------------------------------------------------------------------------------------------------
# Facts: what can hold what, and what can be done with what.
# --------------------------------------------------------------------------------------------------

_TABLETOP = frozenset(
    "alarmclock apple baseballbat basketball book bowl box bread butterknife candle cd cellphone cloth "
    "creditcard cup dishsponge egg fork glassbottle handtowel kettle keychain knife ladle laptop lettuce mug "
    "newspaper pan pen pencil peppershaker plate pot potato remotecontrol saltshaker soapbar soapbottle "
    "spatula spoon spraybottle statue tennisracket tissuebox toiletpaper tomato vase watch wateringcan "
    "winebottle".split()
)
_DESK = frozenset(
    "alarmclock basketball book bowl box candle cd cellphone cloth creditcard cup glassbottle keychain laptop "
    "mug newspaper pen pencil plate remotecontrol soapbottle spraybottle statue tennisracket tissuebox "
    "toiletpaper vase watch wateringcan winebottle".split()
)
_SEAT = frozenset("basketball book box cellphone creditcard keychain laptop newspaper pillow remotecontrol".split())

#: Receptacle type -> the object types it can contain (ALFRED's receptacle/object pairs, sliced
#: variants and movable receptacles left out). ``teddybear`` on a bed is this module's addition:
#: ALFRED scenes place teddy bears on beds without listing the pair.
CAN_CONTAIN: dict[str, frozenset[str]] = {
    "armchair": _SEAT,
    "bathtubbasin": frozenset("cloth dishsponge handtowel soapbar".split()),
    "bed": frozenset(
        "baseballbat basketball book cellphone laptop newspaper pillow teddybear tennisracket".split()
    ),
    "cabinet": frozenset(
        "book bowl box candle cd cloth cup dishsponge glassbottle handtowel kettle ladle mug newspaper pan "
        "peppershaker plate plunger pot saltshaker soapbar soapbottle spraybottle tissuebox toiletpaper vase "
        "wateringcan winebottle".split()
    ),
    "cart": frozenset(
        "candle cloth dishsponge handtowel mug plunger soapbar soapbottle spraybottle statue tissuebox "
        "toiletpaper vase".split()
    ),
    "coffeemachine": frozenset({"mug"}),
    "coffeetable": _TABLETOP,
    "countertop": _TABLETOP,
    "desk": _DESK,
    "diningtable": _TABLETOP,
    "drawer": frozenset(
        "book butterknife candle cd cellphone cloth creditcard dishsponge fork handtowel keychain knife ladle "
        "newspaper pen pencil peppershaker remotecontrol saltshaker soapbar soapbottle spatula spoon "
        "spraybottle tissuebox toiletpaper watch wateringcan".split()
    ),
    "dresser": _DESK - {"soapbottle"},
    "fridge": frozenset(
        "apple bowl bread cup egg glassbottle lettuce mug pan plate pot potato tomato winebottle".split()
    ),
    "garbagecan": frozenset(
        "apple bread cd cloth dishsponge egg handtowel lettuce newspaper pen pencil potato soapbar soapbottle "
        "spraybottle tissuebox toiletpaper tomato winebottle".split()
    ),
    "handtowelholder": frozenset({"handtowel"}),
    "laundryhamper": frozenset({"cloth"}),
    "microwave": frozenset("apple bowl bread cup egg glassbottle mug plate potato tomato".split()),
    "ottoman": _SEAT,
    "safe": frozenset("cd cellphone creditcard keychain statue vase watch".split()),
    "shelf": frozenset(
        "alarmclock book bowl box candle cd cellphone cloth creditcard cup dishsponge glassbottle handtowel "
        "kettle keychain mug newspaper pen pencil peppershaker plate pot remotecontrol saltshaker soapbar "
        "soapbottle spraybottle statue tissuebox toiletpaper vase watch wateringcan winebottle".split()
    ),
    "sidetable": _TABLETOP,
    "sinkbasin": frozenset(
        "apple bowl butterknife cloth cup dishsponge egg fork glassbottle handtowel kettle knife ladle lettuce "
        "mug pan plate pot potato soapbar spatula spoon tomato".split()
    ),
    "sofa": _SEAT,
    "stoveburner": frozenset("kettle pan pot".split()),
    "toaster": frozenset(),  # only sliced bread, which ALFWorld's text games never have
    "toilet": frozenset(
        "candle cloth dishsponge handtowel newspaper soapbar soapbottle spraybottle tissuebox toiletpaper".split()
    ),
    "toiletpaperhanger": frozenset({"toiletpaper"}),
    "towelholder": frozenset({"towel"}),
    "tvstand": frozenset({"tissuebox"}),
}

#: Receptacle types that open and close (§1.3; ALFWorld's text games have no box receptacles).
OPENABLE: frozenset[str] = frozenset({"cabinet", "drawer", "fridge", "microwave", "safe"})

#: Object affordances by type (ALFRED's ``VAL_ACTION_OBJECTS`` plus the receptacle-object list).
HEATABLE = frozenset("apple bread cup egg mug plate potato tomato".split())
COOLABLE = HEATABLE | frozenset("bowl lettuce pan pot winebottle".split())
CLEANABLE = frozenset(
    "apple bowl butterknife cloth cup dishsponge egg fork kettle knife ladle lettuce mug pan plate pot potato "
    "soapbar spatula spoon tomato".split()
)
SLICEABLE = frozenset("apple bread egg lettuce potato tomato".split())
RECEPTACLE_OBJECTS = frozenset("bowl box cup mug pan plate pot".split())
LAMPS: tuple[str, ...] = ("desklamp", "floorlamp")

#: Fixed, non-pickupable objects that sit in a receptacle, and the receptacle types that may hold
#: them. ALFRED lists no canContain pair for these (they are never carried), so they are outside
#: ``CAN_CONTAIN``; lamps are toggleable.
DECOR_HOSTS: dict[str, tuple[str, ...]] = {
    "desklamp": ("desk", "sidetable", "dresser", "shelf", "coffeetable", "diningtable"),
    "floorlamp": ("sidetable", "armchair", "shelf", "dresser", "coffeetable", "sofa"),
    "television": ("tvstand", "dresser", "sidetable", "coffeetable"),
    "houseplant": ("coffeetable", "sidetable", "diningtable", "countertop", "shelf", "dresser"),
}

#: Objects lying in no receptacle (only an ``objectAtLocation`` fact), as in the real data. They
#: are never listed; ``scrubbrush`` is pickupable but, being in no receptacle, can never be taken.
FLOOR_PICKUPABLE = frozenset({"scrubbrush"})

#: The appliance each processing task needs; it is never the goal's parent type.
APPLIANCE: dict[str, str] = {
    "pick_clean_then_place_in_recep": "sinkbasin",
    "pick_heat_then_place_in_recep": "microwave",
    "pick_cool_then_place_in_recep": "fridge",
}
_AFFORDANCE = {
    "pick_clean_then_place_in_recep": CLEANABLE,
    "pick_heat_then_place_in_recep": HEATABLE,
    "pick_cool_then_place_in_recep": COOLABLE,
}

#: ALFWorld's two goal sentences per task type (goal_library), without the final period.
GOAL_TEMPLATES: dict[str, tuple[str, str]] = {
    "pick_and_place_simple": ("put a {obj} in {recep}", "put some {obj} on {recep}"),
    "look_at_obj_in_light": ("look at {obj} under the {toggle}", "examine the {obj} with the {toggle}"),
    "pick_clean_then_place_in_recep": ("put a clean {obj} in {recep}", "clean some {obj} and put it in {recep}"),
    "pick_heat_then_place_in_recep": ("put a hot {obj} in {recep}", "heat some {obj} and put it in {recep}"),
    "pick_cool_then_place_in_recep": ("put a cool {obj} in {recep}", "cool some {obj} and put it in {recep}"),
    "pick_two_obj_and_place": ("put two {obj} in {recep}", "find two {obj} and put them in {recep}"),
}

# --------------------------------------------------------------------------------------------------
# Room templates: (type, probability of being present, counts to choose from uniformly).
# --------------------------------------------------------------------------------------------------

_RECEPTACLE_TEMPLATES: dict[str, tuple[tuple[str, float, tuple[int, ...]], ...]] = {
    "kitchen": (
        ("cabinet", 1.0, tuple(range(6, 25))),
        ("coffeemachine", 1.0, (1,)),
        ("countertop", 1.0, (1, 1, 2, 2, 2, 3, 3, 3, 4)),
        ("diningtable", 16 / 30, (1,)),
        ("drawer", 28 / 30, (1, 2, 3, 3, 4, 4, 5, 6, 6, 8, 9, 11, 12)),
        ("fridge", 1.0, (1,)),
        ("garbagecan", 1.0, (1,)),
        ("microwave", 1.0, (1,)),
        ("shelf", 5 / 30, (1, 2, 3)),
        ("sinkbasin", 1.0, (1,)),
        ("stoveburner", 1.0, (4, 4, 4, 4, 4, 4, 4, 4, 4, 2)),
        ("toaster", 1.0, (1,)),
    ),
    "livingroom": (
        ("armchair", 27 / 30, (1, 1, 2)),
        ("cabinet", 0.3, (1, 2, 3, 4)),
        ("coffeetable", 25 / 30, (1, 1, 1, 2)),
        ("desk", 0.1, (1,)),
        ("diningtable", 14 / 30, (1,)),
        ("drawer", 23 / 30, (2, 3, 4, 5, 6, 8, 10)),
        ("dresser", 0.2, (1,)),
        ("garbagecan", 0.9, (1,)),
        ("ottoman", 0.1, (1,)),
        ("safe", 0.15, (1,)),
        ("shelf", 12 / 30, (2, 3, 4, 6, 8)),
        ("sidetable", 24 / 30, (1, 1, 2, 2, 3)),
        ("sofa", 1.0, (1, 1, 1, 2)),
        ("tvstand", 12 / 30, (1, 1, 2)),
    ),
    "bedroom": (
        ("armchair", 0.15, (1,)),
        ("bed", 1.0, (1,)),
        ("coffeetable", 0.07, (1,)),
        ("desk", 19 / 30, (1, 1, 1, 2)),
        ("diningtable", 0.07, (1,)),
        ("drawer", 29 / 30, (2, 3, 4, 5, 6, 8, 10)),
        ("dresser", 0.5, (1,)),
        ("garbagecan", 0.9, (1,)),
        ("laundryhamper", 8 / 30, (1,)),
        ("safe", 5 / 30, (1,)),
        ("shelf", 20 / 30, (1, 2, 3, 4, 5, 6)),
        ("sidetable", 19 / 30, (1, 1, 2)),
    ),
    "bathroom": (
        ("bathtubbasin", 20 / 30, (1,)),
        ("cabinet", 0.5, (1, 2, 3, 4)),
        ("cart", 0.2, (1,)),
        ("countertop", 25 / 30, (1,)),
        ("drawer", 0.25, (1, 2, 3, 4)),
        ("garbagecan", 0.95, (1,)),
        ("handtowelholder", 1.0, (1, 1, 2)),
        ("shelf", 0.15, (1, 2, 3)),
        ("sinkbasin", 1.0, (1, 1, 2)),
        ("toilet", 1.0, (1,)),
        ("toiletpaperhanger", 1.0, (1,)),
        ("towelholder", 1.0, (1, 1, 2)),
    ),
}

#: Receptacle count bounds per room, and the type added or removed to meet them.
_SIZE = {"kitchen": (25, 50, "cabinet"), "livingroom": (10, 25, "drawer"), "bedroom": (10, 25, "drawer"),
         "bathroom": (8, 15, "cabinet")}

#: Pickupable object types per room with their probability of occurring in a layout.
_OBJECT_TEMPLATES: dict[str, tuple[tuple[str, float], ...]] = {
    "kitchen": (
        ("apple", 0.95), ("bowl", 0.9), ("bread", 0.95), ("butterknife", 0.9), ("cup", 0.9), ("dishsponge", 0.9),
        ("egg", 0.95), ("fork", 0.9), ("glassbottle", 0.3), ("kettle", 0.5), ("knife", 0.95), ("ladle", 0.4),
        ("lettuce", 0.95), ("mug", 0.9), ("pan", 0.85), ("pen", 0.1), ("pencil", 0.1), ("peppershaker", 0.85),
        ("plate", 0.85), ("pot", 0.85), ("potato", 0.95), ("saltshaker", 0.85), ("soapbottle", 0.85),
        ("spatula", 0.9), ("spoon", 0.9), ("tomato", 0.95), ("winebottle", 0.5),
    ),
    "livingroom": (
        ("book", 0.5), ("bowl", 0.2), ("box", 0.7), ("cellphone", 0.4), ("creditcard", 0.9), ("keychain", 0.9),
        ("laptop", 0.8), ("newspaper", 0.6), ("pillow", 0.8), ("plate", 0.3), ("remotecontrol", 0.95),
        ("statue", 0.7), ("tissuebox", 0.3), ("vase", 0.6), ("watch", 0.6), ("wateringcan", 0.5),
    ),
    "bedroom": (
        ("alarmclock", 0.9), ("baseballbat", 0.5), ("basketball", 0.4), ("book", 0.9), ("bowl", 0.35),
        ("box", 0.2), ("cd", 0.85), ("cellphone", 0.95), ("cloth", 0.15), ("creditcard", 0.85), ("keychain", 0.8),
        ("laptop", 0.9), ("mug", 0.5), ("pen", 0.85), ("pencil", 0.85), ("pillow", 0.95), ("statue", 0.15),
        ("teddybear", 0.25), ("tennisracket", 0.4), ("tissuebox", 0.15), ("vase", 0.15), ("watch", 0.2),
    ),
    "bathroom": (
        ("candle", 0.9), ("cloth", 0.95), ("dishsponge", 0.2), ("handtowel", 0.95), ("plunger", 0.9),
        ("soapbar", 0.95), ("soapbottle", 0.9), ("spraybottle", 0.9), ("tissuebox", 0.3), ("toiletpaper", 0.95),
        ("towel", 0.95),
    ),
}

#: Decor per room: (type, probability). Lamps only where look tasks are valid.
_DECOR_TEMPLATES: dict[str, tuple[tuple[str, float], ...]] = {
    "kitchen": (("houseplant", 0.3),),
    "livingroom": (("desklamp", 0.5), ("floorlamp", 0.7), ("houseplant", 0.5), ("television", 0.85)),
    "bedroom": (("desklamp", 0.85), ("floorlamp", 0.35)),
    "bathroom": (),
}

#: Floor objects per room: (type, counts to choose from).
_FLOOR_TEMPLATES: dict[str, tuple[tuple[str, tuple[int, ...]], ...]] = {
    "kitchen": (("chair", (0, 1, 2)), ("lightswitch", (1,)), ("window", (1, 1, 2))),
    "livingroom": (("chair", (0, 0, 1, 2)), ("lightswitch", (1,)), ("painting", (0, 1, 2)), ("window", (1, 2))),
    "bedroom": (("blinds", (0, 1)), ("chair", (0, 1)), ("lightswitch", (1,)), ("mirror", (0, 1)), ("window", (1, 2))),
    "bathroom": (("lightswitch", (1,)), ("mirror", (1,)), ("scrubbrush", (0, 1, 1)), ("window", (0, 1, 1))),
}

#: Points shared by several receptacles: probability that a group of 2 (or 3) starts at a receptacle.
_SHARE = {"cabinet": (0.2, 0.0), "drawer": (0.3, 0.05), "shelf": (0.2, 0.0)}
_STOVE_PATTERNS = {4: ((4,), (2, 2), (2, 2), (1, 1, 1, 1), (2, 1, 1)), 2: ((2,), (2,), (1, 1))}


@dataclass(frozen=True)
class Layout:
    """A fixed room: its furniture, shared points, decor and the object types that occur in it."""

    layout_id: int  # ALFRED's floor-plan numbering: 1-30, 201-230, 301-330, 401-430
    room: str  # one of ROOM_TYPES
    receptacles: tuple[tuple[str, int], ...]  # (rtype, count), sorted by rtype
    points: tuple[tuple[str, ...], ...]  # location k (id loc_bar_{k:03d}) -> receptacle ids there; () = none
    object_types: tuple[str, ...]  # pickupable types placed in every problem, 1-3 instances each (sorted)
    decor: tuple[tuple[str, str], ...] = ()  # (object type, receptacle id): fixed lamps, television, houseplant
    floor: tuple[tuple[str, int], ...] = ()  # (object type, point index): objects in no receptacle

    @property
    def receptacle_types(self) -> tuple[str, ...]:
        """The receptacle types present, sorted."""
        return tuple(rtype for rtype, _ in self.receptacles)

    @property
    def lamp_types(self) -> tuple[str, ...]:
        """The lamp types present (toggle targets of look tasks), sorted."""
        return tuple(sorted({otype for otype, _ in self.decor if otype in LAMPS}))

    @property
    def unseen(self) -> bool:
        """Whether the layout is held out for ``valid_unseen``."""
        return self.layout_id in UNSEEN_LAYOUT_IDS


def receptacle_id(rtype: str, k: int) -> str:
    """The id of the ``k``-th receptacle of a type; basins follow the real ``sink_bar_…_bar_sinkbasin`` form.

    Example:
        >>> receptacle_id("cabinet", 3), receptacle_id("sinkbasin", 0)
        ('cabinet_bar_003', 'sink_bar_000_bar_sinkbasin')
    """
    if rtype.endswith("basin"):
        return f"{rtype[:-5]}_bar_{k:03d}_bar_{rtype}"
    return f"{rtype}_bar_{k:03d}"


def location_id(k: int) -> str:
    """The id of point ``k`` of a layout."""
    return f"loc_bar_{k:03d}"


def _build_layout(room: str, layout_id: int) -> Layout:
    rng = random.Random(f"spa_gym.alfworld.scenes/v{SCENES_VERSION}/{layout_id}")
    counts: dict[str, int] = {}
    for rtype, p, choices in _RECEPTACLE_TEMPLATES[room]:
        if rng.random() < p:
            counts[rtype] = rng.choice(choices)
    if room in ("livingroom", "bedroom") and not any(
        rtype in counts for rtype in {*DECOR_HOSTS["desklamp"], *DECOR_HOSTS["floorlamp"]}
    ):
        counts["sidetable"] = 1  # somewhere to stand a lamp
    low, high, filler = _SIZE[room]
    total = sum(counts.values())
    if total < low:
        counts[filler] = counts.get(filler, 0) + low - total
    for rtype in (filler, "drawer", "shelf", "cabinet"):
        total = sum(counts.values())
        if total > high and rtype in counts:
            counts[rtype] = max(1, counts[rtype] - (total - high))
    receptacles = tuple(sorted(counts.items()))

    groups: list[tuple[str, ...]] = []
    for rtype, count in receptacles:
        ids = [receptacle_id(rtype, k) for k in range(count)]
        rng.shuffle(ids)
        if rtype == "stoveburner":
            sizes = list(rng.choice(_STOVE_PATTERNS[count]))
        else:
            p2, p3 = _SHARE.get(rtype, (0.0, 0.0))
            sizes = []
            left = count
            while left:
                draw = rng.random()
                size = 3 if draw < p3 else 2 if draw < p3 + p2 else 1
                size = min(size, left)
                sizes.append(size)
                left -= size
        start = 0
        for size in sizes:
            groups.append(tuple(sorted(ids[start:start + size])))
            start += size
    n_free = rng.randint(4, 10) if room == "kitchen" else rng.randint(3, 8)
    points: list[tuple[str, ...]] = groups + [()] * n_free
    rng.shuffle(points)
    free = [k for k, point in enumerate(points) if not point]

    hosts_present = set(counts)
    object_types = tuple(
        otype
        for otype, p in _OBJECT_TEMPLATES[room]
        if rng.random() < p and CAN_CONTAIN_BY_OBJECT.get(otype, frozenset()) & hosts_present
    )

    ids_by_type = {rtype: sorted(receptacle_id(rtype, k) for k in range(count)) for rtype, count in receptacles}
    decor: list[tuple[str, str]] = []
    for otype, p in _DECOR_TEMPLATES[room]:
        if rng.random() < p:
            hosts = [rtype for rtype in DECOR_HOSTS[otype] if rtype in counts]
            if hosts:
                decor.append((otype, rng.choice(ids_by_type[rng.choice(hosts)])))
    if room in ROOMS_FOR_TASK["look_at_obj_in_light"] and not any(otype in LAMPS for otype, _ in decor):
        for lamp in LAMPS:
            hosts = [rtype for rtype in DECOR_HOSTS[lamp] if rtype in counts]
            if hosts:
                decor.append((lamp, rng.choice(ids_by_type[rng.choice(hosts)])))
                break
    floor: list[tuple[str, int]] = []
    for otype, choices in _FLOOR_TEMPLATES[room]:
        if otype == "chair" and not {"diningtable", "desk"} & hosts_present:
            continue
        for _ in range(rng.choice(choices)):
            floor.append((otype, rng.choice(free)))
    if room == "kitchen":
        floor.extend(("stoveknob", rng.choice(free)) for _ in range(counts["stoveburner"]))
    return Layout(
        layout_id=layout_id,
        room=room,
        receptacles=receptacles,
        points=tuple(points),
        object_types=tuple(sorted(object_types)),
        decor=tuple(sorted(decor)),
        floor=tuple(sorted(floor)),
    )


#: Object type -> receptacle types that can contain it (the inverse of ``CAN_CONTAIN``).
CAN_CONTAIN_BY_OBJECT: dict[str, frozenset[str]] = {
    otype: frozenset(rtype for rtype, otypes in CAN_CONTAIN.items() if otype in otypes)
    for otype in sorted(set().union(*CAN_CONTAIN.values()))
}

LAYOUTS: tuple[Layout, ...] = tuple(
    _build_layout(room, _FIRST_ID[room] + i) for room in ROOM_TYPES for i in range(LAYOUTS_PER_ROOM)
)
LAYOUTS_BY_ID: dict[int, Layout] = {layout.layout_id: layout for layout in LAYOUTS}

#: Layouts held out for ``valid_unseen`` only, as ALFRED holds out floor plans 10, 219, 308 and 424.
UNSEEN_LAYOUT_IDS: frozenset[int] = frozenset({10, 219, 308, 424})


# --------------------------------------------------------------------------------------------------
# Goals
# --------------------------------------------------------------------------------------------------

def goal_candidates(layout: Layout, task_type: str) -> list[Goal]:
    """Every Goal (object_type, parent_type / toggle_type) this layout supports for the task type, sorted.

    A candidate is solvable in every problem of the layout and cannot already hold at reset: the
    object type occurs and is pickupable, the appliance exists, a parent receptacle of the type
    exists and can contain the object, and the object also fits some receptacle of another type
    (targets are never placed in parent-type receptacles). Look tasks need a lamp of the toggle type.

    Example:
        >>> goals = goal_candidates(LAYOUTS_BY_ID[1], "pick_heat_then_place_in_recep")
        >>> all(goal.parent_type != "microwave" for goal in goals), goals == sorted(goals, key=_goal_key)
        (True, True)
    """
    return list(_candidates(layout, task_type))


def _goal_key(goal: Goal) -> tuple[str, str, str]:
    return goal.object_type, goal.parent_type, goal.toggle_type


@lru_cache(maxsize=1024)
def _candidates(layout: Layout, task_type: str) -> tuple[Goal, ...]:
    if task_type not in TASK_TYPES:
        raise ValueError(f"unknown ALFWorld task type {task_type!r}; expected one of {TASK_TYPES}")
    if layout.room not in ROOMS_FOR_TASK[task_type]:
        return ()
    present = set(layout.receptacle_types)
    if task_type == "look_at_obj_in_light":
        return tuple(
            Goal(task_type, otype, toggle_type=lamp) for otype in layout.object_types for lamp in layout.lamp_types
        )
    appliance = APPLIANCE.get(task_type)
    if appliance is not None and appliance not in present:
        return ()
    affordance = _AFFORDANCE.get(task_type)
    goals = []
    for otype in layout.object_types:
        if affordance is not None and otype not in affordance:
            continue
        hosts = CAN_CONTAIN_BY_OBJECT.get(otype, frozenset()) & present
        for parent in sorted(hosts):
            if parent != appliance and hosts - {parent}:
                goals.append(Goal(task_type, otype, parent_type=parent))
    return tuple(goals)


# --------------------------------------------------------------------------------------------------
# Problems
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Prepared:
    """What every problem of a layout shares, computed once per layout."""

    receptacle_types: dict[str, str]
    receptacle_location: dict[str, str]
    locations: tuple[str, ...]
    free_locations: tuple[str, ...]
    openable: frozenset[str]
    hosts: dict[str, tuple[tuple[str, tuple[str, ...]], ...]]  # otype -> ((rtype, receptacle ids), ...)
    fixed_objects: tuple[tuple[str, str, str | None, str], ...]  # (object id, otype, receptacle id, location)
    can_contain: frozenset[tuple[str, str]]
    static_flags: dict[str, frozenset[str]]  # flag -> object types


@lru_cache(maxsize=256)
def _prepare(layout: Layout) -> _Prepared:
    receptacle_types: dict[str, str] = {}
    receptacle_location: dict[str, str] = {}
    for k, point in enumerate(layout.points):
        for rid in point:
            receptacle_location[rid] = location_id(k)
    ids_by_type: dict[str, tuple[str, ...]] = {}
    for rtype, count in layout.receptacles:
        ids = tuple(sorted(receptacle_id(rtype, k) for k in range(count)))
        ids_by_type[rtype] = ids
        for rid in ids:
            receptacle_types[rid] = rtype
            if rid not in receptacle_location:
                raise ValueError(f"layout {layout.layout_id}: receptacle {rid!r} is at no point")
    locations = tuple(location_id(k) for k in range(len(layout.points)))
    free = tuple(location_id(k) for k, point in enumerate(layout.points) if not point)
    if not free:
        raise ValueError(f"layout {layout.layout_id} has no free point for the agent to start at")
    hosts = {
        otype: tuple(
            (rtype, ids_by_type[rtype])
            for rtype in sorted(CAN_CONTAIN_BY_OBJECT.get(otype, frozenset()) & set(ids_by_type))
        )
        for otype in layout.object_types
    }
    fixed: list[tuple[str, str, str | None, str]] = []
    numbering: dict[str, int] = {}
    for otype, rid in layout.decor:
        k = numbering[otype] = numbering.get(otype, -1) + 1
        fixed.append((f"{otype}_bar_{k:03d}", otype, rid, receptacle_location[rid]))
    for otype, point in layout.floor:
        k = numbering[otype] = numbering.get(otype, -1) + 1
        fixed.append((f"{otype}_bar_{k:03d}", otype, None, location_id(point)))
    pickupable = set(layout.object_types) | {otype for otype, _ in layout.floor if otype in FLOOR_PICKUPABLE}
    can_contain = frozenset(
        (rtype, otype) for rtype in ids_by_type for otype in pickupable if otype in CAN_CONTAIN.get(rtype, ())
    )
    static_flags = {
        "pickupable": frozenset(pickupable),
        "isreceptacleobject": frozenset(pickupable & RECEPTACLE_OBJECTS),
        "cleanable": frozenset(pickupable & CLEANABLE),
        "heatable": frozenset(pickupable & HEATABLE),
        "coolable": frozenset(pickupable & COOLABLE),
        "sliceable": frozenset(pickupable & SLICEABLE),
        "toggleable": frozenset(otype for otype, _ in layout.decor if otype in LAMPS),
    }
    return _Prepared(
        receptacle_types=receptacle_types,
        receptacle_location=receptacle_location,
        locations=locations,
        free_locations=free,
        openable=frozenset(rid for rid, rtype in receptacle_types.items() if rtype in OPENABLE),
        hosts=hosts,
        fixed_objects=tuple(fixed),
        can_contain=can_contain,
        static_flags=static_flags,
    )


def goal_text(goal: Goal, rng: random.Random) -> str:
    """One of ALFWorld's two sentences for the goal, chosen with ``rng`` (no final period).

    Example:
        >>> goal_text(Goal("pick_two_obj_and_place", "pen", "diningtable"), random.Random(1))
        'put two pen in diningtable'
    """
    template = GOAL_TEMPLATES[goal.task_type][rng.randrange(2)]
    return template.format(obj=goal.object_type, recep=goal.parent_type, toggle=goal.toggle_type)


def generate_problem(layout: Layout, goal: Goal, rng: random.Random, grammar: str = "2.1.1") -> Problem:
    """A full Problem: receptacles, locations, objects placed, flags, canContain, goal, goal_text, grammar.

    Every object type of the layout gets 1-3 instances (the goal's type 1-3, or 2-4 for pick-two),
    each in a receptacle of a type drawn uniformly from those that can contain it, never a
    parent-type receptacle for the goal's type; all receptacles start closed, and the agent starts
    at a point with no receptacle. Goal-type objects placed in a fridge start cool (ALFWorld's
    quirk). Raises ``ValueError`` if ``goal`` is not in :func:`goal_candidates` for the layout.

    Example:
        >>> from spa_gym.envs.alfworld.engine import Episode
        >>> from spa_gym.envs.alfworld.game import compile_game
        >>> layout = LAYOUTS_BY_ID[301]
        >>> goal = goal_candidates(layout, "look_at_obj_in_light")[0]
        >>> problem = generate_problem(layout, goal, random.Random(0))
        >>> problem == generate_problem(layout, goal, random.Random(0))
        True
        >>> episode = Episode(compile_game(problem))
        >>> episode.goal_satisfied()
        False
        >>> episode.intro().splitlines()[-1] == f"Your task is to: {problem.goal_text}."
        True
    """
    if goal not in _candidate_set(layout, goal.task_type):
        raise ValueError(f"layout {layout.layout_id} ({layout.room}) cannot host the goal {goal}")
    prep = _prepare(layout)
    object_types: dict[str, str] = {}
    in_receptacle: set[tuple[str, str]] = set()
    object_at_location: set[tuple[str, str]] = set()
    flags: dict[str, set[str]] = {flag: set() for flag in OBJECT_FLAGS}
    for oid, otype, rid, loc in prep.fixed_objects:
        object_types[oid] = otype
        if rid is not None:
            in_receptacle.add((oid, rid))
        object_at_location.add((oid, loc))

    agent_location = rng.choice(prep.free_locations)
    target, parent = goal.object_type, goal.parent_type
    location = prep.receptacle_location
    cool = flags["iscool"]
    for otype in layout.object_types:
        hosts = prep.hosts[otype]
        if otype == target:
            if parent:
                hosts = tuple(host for host in hosts if host[0] != parent)
            count = rng.randint(2, 4) if goal.task_type == "pick_two_obj_and_place" else rng.randint(1, 3)
        else:
            count = rng.randint(1, 3)
        for k in range(count):
            oid = f"{otype}_bar_{k:03d}"
            rtype, ids = hosts[rng.randrange(len(hosts))]
            rid = ids[rng.randrange(len(ids))]
            object_types[oid] = otype
            in_receptacle.add((oid, rid))
            object_at_location.add((oid, location[rid]))
            if otype == target and rtype == "fridge":
                cool.add(oid)

    for flag, types in prep.static_flags.items():
        members = flags[flag]
        for oid, otype in object_types.items():
            if otype in types:
                members.add(oid)
    return Problem(
        receptacle_types=dict(prep.receptacle_types),
        receptacle_location=dict(prep.receptacle_location),
        object_types=object_types,
        locations=list(prep.locations),
        agent_location=agent_location,
        openable=set(prep.openable),
        opened=set(),
        flags=flags,
        in_receptacle=in_receptacle,
        object_at_location=object_at_location,
        in_receptacle_object=set(),
        can_contain=set(prep.can_contain),
        goal=goal,
        goal_text=goal_text(goal, rng),
        grammar=grammar,
        walkthrough=None,
    )


@lru_cache(maxsize=1024)
def _candidate_set(layout: Layout, task_type: str) -> frozenset[Goal]:
    return frozenset(_candidates(layout, task_type))
