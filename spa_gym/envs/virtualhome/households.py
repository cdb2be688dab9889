"""Seeded VirtualHome households: numbered apartment layouts and a generator of their scene graphs.

A household is a VirtualHome graph dict (``{"nodes": [...], "edges": [...]}``, the schema of the
TrimmedTestScene graphs) with the four rooms ``bathroom``, ``bedroom``, ``dining_room`` (the kitchen)
and ``home_office`` (the living room). :data:`LAYOUTS` fixes, per layout id, the order of the rooms
(which sets the ids, as in the real scenes), the doors between them and the furniture of each room;
:func:`generate_household` then draws the structure's cleanliness, the appliances' switch and door
states, a few dozen small objects (``placable_objects``, ids from 2000 as the dataset's clutter) on
surfaces and in containers, and the character's room, from a seed. Task objects added later take ids
from 1000 (:meth:`Household.add_object`), as the dataset's script objects do.

Edges follow VirtualHome's scene graphs (TrimmedTestScene1-7 and the program dataset's init graphs):
every node is ``INSIDE`` its room; furniture stands ``ON`` a floor; mounted things are ``ON``
(television on tvstand, faucet on counter) or ``INSIDE`` (sink in counter) their base; small objects
are ``ON`` a surface or ``INSIDE`` a container; ``CLOSE`` is stored both ways between the members of
a furniture group, between a support and what it holds and between the objects on one support;
``FACING`` goes from couch to television and from the desk chair to the computer; each door has
``BETWEEN`` edges to its two rooms. The character starts ``INSIDE`` a room with no ``CLOSE`` edge
(sometimes ``SITTING``, as 12 of the 518 scene-1 init graphs do). ``hands_both`` is ``INSIDE`` the
bathroom, ``CLOSE`` to its sink.

Layouts 1-16 are for ``train`` and ``test_seen``; :data:`UNSEEN_LAYOUT_IDS` (17-20) only appear in
``test_unseen``. Everything is a pure function of ``(HOUSEHOLDS_VERSION, layout_id, seed)``.

Example:
    >>> household = generate_household(3, seed=7)
    >>> household.rooms["dining_room"] > 0, household.graph() == generate_household(3, seed=7).graph()
    (True, True)
    >>> sorted({node["class_name"] for node in household.graph()["nodes"] if node["category"] == "Rooms"})
    ['bathroom', 'bedroom', 'dining_room', 'home_office']
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from .vocabulary import CLASSES, ROOMS

HOUSEHOLDS_VERSION = "1"
LAYOUT_IDS: tuple[int, ...] = tuple(range(1, 21))
#: Layouts held out for ``test_unseen``.
UNSEEN_LAYOUT_IDS: tuple[int, ...] = (17, 18, 19, 20)
#: First id of task objects and of clutter objects (the dataset's script objects and random objects).
TASK_OBJECT_ID, CLUTTER_ID = 1000, 2000


# --------------------------------------------------------------------------------------------------
# Facts: furniture groups per room and where small objects go.
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Part:
    """One piece of a furniture group: its class and where it sits: ``ON``/``INSIDE`` (``mount``) the
    group's part of class ``base`` (default: the group's first part), or on the floor (``mount=""``)."""

    class_name: str
    mount: str = ""
    base: str = ""


# A group is a tuple of parts; the first part is its base. All parts of a group are CLOSE to each other.
_KITCHEN_COUNTER = (
    Part("kitchen_counter"), Part("sink", "INSIDE"), Part("faucet", "ON"), Part("coffe_maker", "ON"),
    Part("microwave", "ON"), Part("dishwasher"),
)
_BATH_VANITY = (Part("bathroom_counter"), Part("sink", "INSIDE"), Part("faucet", "ON"))
_TV_CORNER = (Part("couch"), Part("tvstand"), Part("television", "ON", "tvstand"))
_DESK = (
    Part("desk"), Part("chair"), Part("computer"), Part("cpuscreen", "ON"), Part("keyboard", "ON"),
    Part("mousepad", "ON"), Part("mouse", "ON", "mousepad"),
)
_BED = (Part("bed"), Part("pillow", "ON"), Part("nightstand"))


#: Small object class -> where it may be put: ``(relation, support class)``.
PLACEMENTS: dict[str, tuple[tuple[str, str], ...]] = {}


def _places(classes: str, *places: str) -> None:
    pairs = tuple((place.split()[0], place.split()[1]) for place in places)
    for name in classes.split():
        PLACEMENTS[name] = PLACEMENTS.get(name, ()) + pairs


_KITCHEN_STORE = ("INSIDE kitchen_cabinet", "INSIDE cupboard")
_COLD = ("INSIDE fridge", "INSIDE freezer")
_READING = ("ON coffee_table", "ON desk", "ON nightstand", "ON bookshelf", "ON table", "INSIDE bookshelf",
            "INSIDE nightstand", "INSIDE filing_cabinet")
_places("cup water_glass drinking_glass bowl", "ON kitchen_counter", "ON table", *_KITCHEN_STORE, "INSIDE dishwasher")
_places("plate", "ON kitchen_counter", "ON table", *_KITCHEN_STORE, "INSIDE dishwasher", "INSIDE sink")
_places("fork spoon knife wooden_spoon", "ON kitchen_counter", "ON table", *_KITCHEN_STORE)
_places("pot coffee_pot colander measuring_cup cutting_board", "ON kitchen_counter", *_KITCHEN_STORE)
_places("dishrack kettle", "ON kitchen_counter")
_places("food_food food_bread food_cake food_carrot food_cheese food_egg food_kiwi food_orange food_pizza "
        "food_steak", *_COLD, "ON kitchen_counter", "ON table")
_places("food_noodles", *_KITCHEN_STORE, *_COLD)
_places("milk juice beer", *_COLD, "ON kitchen_counter")
_places("wine alcohol oil tea coffee", *_KITCHEN_STORE, "ON kitchen_counter", "ON table")
_places("dish_soap coffee_filter ground_coffee", "ON kitchen_counter", *_KITCHEN_STORE)
_places("soap", "ON bathroom_counter", "INSIDE bathroom_cabinet", "ON kitchen_counter")
_places("toothbrush tooth_paste toothbrush_holder shampoo after_shave shaving_cream razor mouthwash hairdryer",
        "ON bathroom_counter", "INSIDE bathroom_cabinet")
_places("hairbrush comb", "ON bathroom_counter", "INSIDE bathroom_cabinet", "ON nightstand")
_places("teeth", "ON bathroom_counter")
_places("towel", "ON towel_rack", "INSIDE bathroom_cabinet", "INSIDE dresser", "INSIDE closet")
_places("toilet_paper", "ON bathroom_counter", "INSIDE bathroom_cabinet")
_places("clothes_dress clothes_hat clothes_jacket clothes_pants clothes_scarf clothes_shirt clothes_socks pajamas "
        "shoes", "INSIDE dresser", "INSIDE closet", "ON bed", "ON couch")
_places("laundry_detergent detergent", "INSIDE bathroom_cabinet", *_KITCHEN_STORE, "ON bathroom_counter")
_places("novel newspaper diary address_book homework bills check mail folder", *_READING, "ON couch", "ON bed")
_places("phone", "ON table", "ON nightstand", "ON desk", "ON coffee_table", "ON couch")
_places("remote_control", "ON coffee_table", "ON couch", "ON tvstand", "ON table")
_places("stereo", "ON table", "ON desk", "ON nightstand", "ON tvstand", "ON bookshelf")
_places("cat dog", "ON couch", "ON bed", "ON bench")
_places("keys coin creditcard", "ON table", "ON nightstand", "ON desk", "ON coffee_table")
_places("pencil stamp tape glue scissors crayon", "ON desk", "ON table", "INSIDE filing_cabinet")
_places("laptop", "ON desk", "ON table", "ON coffee_table", "ON bed")
_places("candle", "ON table", "ON coffee_table", "ON nightstand")
_places("alarm_clock", "ON nightstand")
_places("spectacles bookmark", "ON nightstand", "ON desk", "ON coffee_table")
_places("toy board_game chessboard cards deck_of_cards", "ON coffee_table", "ON table", "ON bookshelf")
_places("napkin cloth_napkin table_cloth", "ON table", "ON kitchen_counter")
_places("sponge rag paper_towel", "ON kitchen_counter", "ON bathroom_counter")
_places("iron sheets basket_for_clothes", "INSIDE closet", "INSIDE dresser", "ON bed")
_places("video_game_controller headset", "ON coffee_table", "ON tvstand", "ON couch")
_places("picture purse bag box", "ON table", "ON desk", "INSIDE closet", "INSIDE dresser")

#: Classes the generator strews as clutter.
CLUTTER_CLASSES: tuple[str, ...] = tuple(sorted(PLACEMENTS))


# --------------------------------------------------------------------------------------------------
# Layouts.
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Layout:
    """One apartment: room order (ids follow it), doors, and the furniture groups of each room."""

    layout_id: int
    room_order: tuple[str, ...]
    doors: tuple[tuple[str, str], ...]
    furniture: dict[str, tuple[tuple[Part, ...], ...]] = field(hash=False, compare=False)

    @property
    def unseen(self) -> bool:
        """Whether the layout is held out for ``test_unseen``."""
        return self.layout_id in UNSEEN_LAYOUT_IDS

    def classes(self, room: str | None = None) -> frozenset[str]:
        """Furniture classes of one room (or of the whole apartment)."""
        rooms = ROOMS if room is None else (room,)
        return frozenset(part.class_name for r in rooms for group in self.furniture[r] for part in group)


def _build_layout(layout_id: int) -> Layout:
    """Layout ``layout_id``: required furniture groups per room plus optional ones, drawn once."""
    rng = random.Random(f"vh-layout-{HOUSEHOLDS_VERSION}-{layout_id}")
    room_order = list(ROOMS)
    rng.shuffle(room_order)
    # Doors: a random spanning tree over the rooms, in room order.
    doors = tuple((room_order[i], room_order[rng.randrange(i)]) for i in range(1, len(room_order)))
    washer_room = rng.choice(("bathroom", "dining_room"))
    computer_room = "bedroom" if rng.random() < 0.3 else "home_office"
    cold = rng.choice(("fridge", "freezer"))
    store = rng.choice(("kitchen_cabinet", "cupboard"))

    def maybe(probability: float, *groups: tuple[Part, ...]) -> list[tuple[Part, ...]]:
        return list(groups) if rng.random() < probability else []

    def single(name: str) -> tuple[Part, ...]:
        return (Part(name),)

    def optional(probability: float, part: Part) -> tuple[Part, ...]:
        return (part,) if rng.random() < probability else ()

    kitchen = [_KITCHEN_COUNTER + optional(0.6, Part("toaster", "ON")),
               single(cold), (Part(store), Part(store)) if rng.random() < 0.5 else single(store),
               (Part("oven"), Part("stovefan")), (Part("table"),) + (Part("chair"),) * rng.randint(1, 3)]
    kitchen += maybe(0.3, single("bench")) + maybe(0.5, single("trashcan")) + maybe(0.2, single("bookshelf"))
    bathroom = [_BATH_VANITY + optional(0.7, Part("bathroom_cabinet")), single("toilet")]
    bathroom += maybe(0.6, single("shower")) + maybe(0.5, single("bathtub")) + maybe(0.6, single("towel_rack"))
    bathroom += maybe(0.4, single("trashcan"))
    bedroom = [_BED + optional(0.7, Part("tablelamp", "ON", "nightstand")) + optional(0.4, Part("nightstand")),
               single(rng.choice(("dresser", "closet")))]
    bedroom += maybe(0.5, single("bookshelf")) + maybe(0.3, single("floor_lamp"))
    bedroom += maybe(0.25, (Part("tvstand"), Part("television", "ON")))
    living = [_TV_CORNER + optional(0.6, Part("coffee_table"))]
    living += maybe(0.7, single("bookshelf")) + maybe(0.5, single("filing_cabinet")) + maybe(0.5, single("floor_lamp"))
    living += maybe(0.4, (Part("table"), Part("chair")))
    furniture = {"bathroom": bathroom, "bedroom": bedroom, "dining_room": kitchen, "home_office": living}
    furniture[computer_room].append(_DESK)
    furniture[washer_room].append(single("washing_machine"))
    if computer_room == "bedroom" and rng.random() < 0.5:
        living.append((Part("desk"), Part("chair")))
    return Layout(layout_id, tuple(room_order), doors, {room: tuple(groups) for room, groups in furniture.items()})


#: Every layout by id.
LAYOUTS: dict[int, Layout] = {layout_id: _build_layout(layout_id) for layout_id in LAYOUT_IDS}


# --------------------------------------------------------------------------------------------------
# The household graph.
# --------------------------------------------------------------------------------------------------

class Household:
    """A generated apartment, editable until :meth:`graph` is taken (tasks add their objects).

    ``rooms`` maps room class to node id; ``character_id`` is the character's node.
    """

    def __init__(self, layout: Layout, seed: int):
        self.layout = layout
        self.seed = seed
        self.rooms: dict[str, int] = {}
        self.character_id = 0
        self._nodes: dict[int, dict] = {}
        self._edges: set[tuple[int, str, int]] = set()
        self._room_of: dict[int, int] = {}
        self._by_class: dict[str, list[int]] = {}
        self._contents: dict[int, set[int]] = {}  # support -> what is ON/INSIDE it
        self._supports: dict[int, set[tuple[str, int]]] = {}  # node -> (relation, support), rooms left out
        self._next_task_id = TASK_OBJECT_ID
        self._next_clutter_id = CLUTTER_ID

    # -- reading ----------------------------------------------------------------------------------
    def node(self, node_id: int) -> dict:
        """The node dict (mutable until the graph is taken)."""
        return self._nodes[node_id]

    def ids_of(self, class_name: str, room: str | None = None) -> list[int]:
        """Ids of the nodes of a class (in one room if given), ascending."""
        room_id = None if room is None else self.rooms[room]
        return sorted(i for i in self._by_class.get(class_name, ())
                      if room_id is None or self._room_of.get(i) == room_id)

    def room_of(self, node_id: int) -> int | None:
        """The id of the room a node is in (``None`` for rooms)."""
        return self._room_of.get(node_id)

    def room_name(self, node_id: int) -> str:
        """The class name of the room a node is in."""
        return self._nodes[self._room_of[node_id]]["class_name"]

    def has_edge(self, from_id: int, relation: str, to_id: int) -> bool:
        return (from_id, relation, to_id) in self._edges

    def supports(self, node_id: int) -> list[tuple[str, int]]:
        """What a node stands on or is in, besides its room: ``[(relation, id), ...]``."""
        return sorted(self._supports.get(node_id, ()))

    def contents(self, support_id: int) -> list[int]:
        """Ids of the nodes ON or INSIDE a support (rooms excluded)."""
        return sorted(self._contents.get(support_id, ()))

    # -- editing ----------------------------------------------------------------------------------
    def add_node(self, node_id: int, class_name: str, room_id: int | None,
                 states: tuple[str, ...] | None = None) -> int:
        """Add a node of a vocabulary class (default states unless given), INSIDE ``room_id``."""
        if node_id in self._nodes:
            raise ValueError(f"node id {node_id} is already used by {self._nodes[node_id]['class_name']!r}")
        info = CLASSES[class_name]
        self._nodes[node_id] = {
            "id": node_id, "class_name": class_name, "category": info.category,
            "properties": list(info.properties),
            "states": list(info.default_states if states is None else states),
        }
        self._by_class.setdefault(class_name, []).append(node_id)
        if room_id is not None:
            self._room_of[node_id] = room_id
            self._edges.add((node_id, "INSIDE", room_id))
        return node_id

    def relate(self, from_id: int, relation: str, to_id: int) -> None:
        """Add an edge; ``CLOSE`` is added both ways."""
        self._edges.add((from_id, relation, to_id))
        if relation == "CLOSE":
            self._edges.add((to_id, relation, from_id))
        elif relation in ("ON", "INSIDE") and to_id not in self.rooms.values():
            self._contents.setdefault(to_id, set()).add(from_id)
            self._supports.setdefault(from_id, set()).add((relation, to_id))

    def set_states(self, node_id: int, *states: str) -> None:
        """Replace states of the same kind: ``set_states(tv, "ON")`` drops ``OFF``."""
        kinds = ({"ON", "OFF"}, {"OPEN", "CLOSED"}, {"CLEAN", "DIRTY"}, {"PLUGGED_IN", "PLUGGED_OUT"},
                 {"SITTING", "LYING"})
        current = self._nodes[node_id]["states"]
        for state in states:
            kind = next((k for k in kinds if state in k), {state})
            current[:] = [s for s in current if s not in kind] + [state]

    def place(self, node_id: int, relation: str, support_id: int) -> None:
        """Put a small object ON/INSIDE a support: CLOSE to it and to what already lies there."""
        for other in self.contents(support_id):
            if self._nodes[other]["category"] == "placable_objects":
                self.relate(node_id, "CLOSE", other)
        self.relate(node_id, relation, support_id)
        self.relate(node_id, "CLOSE", support_id)

    def add_object(self, class_name: str, relation: str, support_id: int, states: tuple[str, ...] | None = None,
                   *, clutter: bool = False) -> int:
        """Add a small object ON/INSIDE a support; ids from 1000 (task objects) or 2000 (clutter)."""
        if clutter:
            node_id, self._next_clutter_id = self._next_clutter_id, self._next_clutter_id + 1
        else:
            node_id, self._next_task_id = self._next_task_id, self._next_task_id + 1
        self.add_node(node_id, class_name, self._room_of[support_id], states)
        self._nodes[node_id]["category"] = "placable_objects"
        self.place(node_id, relation, support_id)
        return node_id

    def move_object(self, node_id: int, relation: str, support_id: int) -> None:
        """Move an existing small object to another support (and room)."""
        self._edges = {e for e in self._edges if not (
            (e[0] == node_id and e[1] in ("ON", "INSIDE", "CLOSE")) or (e[2] == node_id and e[1] == "CLOSE"))}
        for _, support in self._supports.pop(node_id, ()):
            self._contents[support].discard(node_id)
        room_id = self._room_of[support_id]
        self._room_of[node_id] = room_id
        self._edges.add((node_id, "INSIDE", room_id))
        self.place(node_id, relation, support_id)

    def place_character(self, room: str, sitting: bool = False) -> None:
        """Put the character INSIDE ``room`` (no CLOSE edges), optionally SITTING."""
        self._edges = {e for e in self._edges if not (e[0] == self.character_id and e[1] == "INSIDE")}
        self._room_of[self.character_id] = self.rooms[room]
        self._edges.add((self.character_id, "INSIDE", self.rooms[room]))
        self._nodes[self.character_id]["states"] = ["SITTING"] if sitting else []

    def graph(self) -> dict:
        """The VirtualHome graph dict: nodes by id, edges sorted."""
        return {
            "nodes": [dict(self._nodes[i], properties=list(self._nodes[i]["properties"]),
                           states=list(self._nodes[i]["states"])) for i in sorted(self._nodes)],
            "edges": [{"from_id": a, "relation_type": r, "to_id": b} for a, r, b in sorted(self._edges)],
        }


def generate_household(layout_id: int, seed: int) -> Household:
    """The household of layout ``layout_id`` drawn with ``seed`` (deterministic)."""
    if layout_id not in LAYOUTS:
        raise ValueError(f"unknown VirtualHome layout {layout_id}; expected one of {LAYOUT_IDS[0]}..{LAYOUT_IDS[-1]}")
    return _Builder(LAYOUTS[layout_id], seed).build()


class _Builder:
    def __init__(self, layout: Layout, seed: int):
        self.layout = layout
        self.rng = random.Random(f"vh-household-{HOUSEHOLDS_VERSION}-{layout.layout_id}-{seed}")
        self.house = Household(layout, seed)
        self.next_id = 1
        self.floors: dict[str, list[int]] = {}
        self.walls: dict[str, list[int]] = {}

    def new(self, class_name: str, room: str | None, states: tuple[str, ...] | None = None) -> int:
        node_id, self.next_id = self.next_id, self.next_id + 1
        room_id = None if room is None else self.house.rooms[room]
        return self.house.add_node(node_id, class_name, room_id, states)

    def build(self) -> Household:
        house, rng = self.house, self.rng
        for index, room in enumerate(self.layout.room_order):
            house.rooms[room] = self.new(room, None)
            self.structure(room)
            if index == 0:
                house.character_id = self.new("character", room)
        for room in self.layout.room_order:
            self.furnish(room)
        for first, second in self.layout.doors:
            door = self.new(rng.choice(("door", "doorjamb")), first)
            house.relate(door, "BETWEEN", house.rooms[first])
            house.relate(door, "BETWEEN", house.rooms[second])
            house.relate(door, "ON", rng.choice(self.floors[first]))
        sink = house.ids_of("sink", "bathroom")[0]
        hands = self.new("hands_both", "bathroom")
        house.node(hands)["category"] = "placable_objects"
        house.relate(hands, "CLOSE", sink)
        self.clutter()
        sitting = rng.random() < 0.05
        house.place_character(rng.choice(ROOMS), sitting=sitting)
        return house

    def structure(self, room: str) -> None:
        rng, house = self.rng, self.house
        dirt = ("CLEAN", "DIRTY")
        self.floors[room] = [self.new("floor", room, (rng.choice(dirt),)) for _ in range(3)]
        self.walls[room] = [self.new("wall", room, (rng.choice(dirt),)) for _ in range(4)]
        for _ in range(2):
            house.relate(self.new("ceiling", room, (rng.choice(dirt),)), "ON", rng.choice(self.walls[room]))
        house.relate(self.new("window", room, (rng.choice(dirt),)), "CLOSE", rng.choice(self.walls[room]))
        self.new("ceilinglamp", room)
        self.new("light", room)
        self.new("powersocket", room)

    def furnish(self, room: str) -> None:
        rng, house = self.rng, self.house
        previous: list[int] = []
        for group in self.layout.furniture[room]:
            ids: list[int] = []
            by_class: dict[str, int] = {}
            for part in group:
                node_id = self.new(part.class_name, room, self.furniture_states(part.class_name))
                if not ids or not part.mount:
                    house.relate(node_id, "ON", rng.choice(self.floors[room]))
                else:
                    house.relate(node_id, part.mount, by_class[part.base] if part.base else ids[0])
                ids.append(node_id)
                by_class.setdefault(part.class_name, node_id)
            for i, a in enumerate(ids):
                for b in ids[i + 1:]:
                    house.relate(a, "CLOSE", b)
            house.relate(ids[0], "CLOSE", rng.choice(self.walls[room]))
            house.relate(ids[0], "CLOSE", rng.choice(self.floors[room]))
            if previous and rng.random() < 0.5:
                house.relate(ids[0], "CLOSE", rng.choice(previous))
            previous = ids
            if "couch" in by_class and "television" in by_class:
                house.relate(by_class["couch"], "FACING", by_class["television"])
            if "chair" in by_class and "computer" in by_class:
                house.relate(by_class["chair"], "FACING", by_class["computer"])
            if "tvstand" in by_class and "bed" in house.layout.classes(room):
                bed = house.ids_of("bed", room)
                if bed:
                    house.relate(bed[0], "FACING", by_class["television"])

    def furniture_states(self, class_name: str) -> tuple[str, ...]:
        rng = self.rng
        states = list(CLASSES[class_name].default_states)
        if "CLOSED" in states and class_name not in ("dishwasher", "washing_machine", "coffe_maker", "microwave",
                                                     "oven") and rng.random() < 0.2:
            states[states.index("CLOSED")] = "OPEN"
        if "CLEAN" in states and rng.random() < 0.1:
            states[states.index("CLEAN")] = "DIRTY"
        return tuple(states)

    def clutter(self) -> None:
        rng, house = self.rng, self.house
        supports: dict[str, list[int]] = {}
        for node_id in sorted(house._nodes):
            supports.setdefault(house.node(node_id)["class_name"], []).append(node_id)
        candidates = [name for name in CLUTTER_CLASSES
                      if any(support in supports for _, support in PLACEMENTS[name])]
        for class_name in rng.sample(candidates, rng.randint(18, 28)):
            relation, support = rng.choice([p for p in PLACEMENTS[class_name] if p[1] in supports])
            states = list(CLASSES[class_name].default_states)
            if rng.random() < 0.15 and "CLEAN" in states:
                states[states.index("CLEAN")] = "DIRTY"
            house.add_object(class_name, relation, rng.choice(supports[support]), tuple(states), clutter=True)

