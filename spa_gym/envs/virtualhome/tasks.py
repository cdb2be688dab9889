"""VirtualHome activities as goal conditions, and the versioned task suite (train / test_seen / test_unseen).

A task is an everyday activity from the VirtualHome program dataset (the titles of SPA-RL/STeCa's
test sets: Watch TV, Turn on light, Wash hands, Make coffee, Put groceries in Fridge, ...) set in a
generated household (:mod:`.households`). Its description reads like the crowd-written ones
("Walk to the living room. Sit on the sofa. ..."), and its goal is a set of conditions in the style
of the Embodied Agent Interface annotations of those programs:

* node goals ``(id, STATE)``: the node has the state;
* edge goals ``(from_id, RELATION, to_id)``: the edge exists; ``HOLDS`` means either hand;
* action goals: groups such as ``WATCH|LOOKAT`` on a target, matched in list order by successfully
  executed script lines. They record things that change no state (watching, reading, typing...).

The task is won when every node and edge goal holds and every action group has been matched. Like
the dataset's ``object_id_dict``, each task pre-binds the class names of the objects it is about to
their ids (:attr:`Task.bindings`), so "switch on light" means the light the task is about.

Splits: ``train`` (2,000 tasks), ``test_seen`` (247) and ``test_unseen`` (247), the sizes of
SPA-RL's public test files. ``train`` and ``test_seen`` use layouts 1-16 and the common phrasings of
each activity; ``test_unseen`` uses only the held-out layouts 17-20 and, for about 40% of its
tasks, activity compositions that never occur in the other splits (e.g. Watch TV after switching the
light off). Task ``i`` of a split is a pure function of ``(SUITE_VERSION, split, i)``.

Example:
    >>> suite = TaskSuite("test_seen")
    >>> len(suite), suite.task_id(42)
    (247, 'test_seen-0042')
    >>> task = suite.task(42)
    >>> task.message == f"The task is {task.title}({task.description})."
    True
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache, lru_cache, partial
from typing import Protocol

from ..task_ids import SplitTaskIds
from .households import LAYOUT_IDS, PLACEMENTS, UNSEEN_LAYOUT_IDS, Household, generate_household
from .script import ScriptLine
from .vocabulary import CLASSES, ROOM_WORDS, ROOMS, humanize

SUITE_VERSION = "1"
SPLIT_SIZES: dict[str, int] = {"train": 2000, "test_seen": 247, "test_unseen": 247}
SPLITS: tuple[str, ...] = tuple(SPLIT_SIZES)
SEEN_LAYOUT_IDS: tuple[int, ...] = tuple(i for i in LAYOUT_IDS if i not in UNSEEN_LAYOUT_IDS)
#: Share of test_unseen tasks that use an unseen composition when their activity has one.
UNSEEN_COMPOSITION_RATE = 0.4


class GraphState(Protocol):
    """What goal checks read from a simulator."""

    character_id: int

    def states(self, node_id: int) -> frozenset[str]: ...

    def has_edge(self, from_id: int, relation: str, to_id: int) -> bool: ...


# --------------------------------------------------------------------------------------------------
# Goals.
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ActionGoal:
    """One action group: any of ``actions`` (script names), on ``target`` (an id) if given."""

    actions: tuple[str, ...]
    target: int | None = None

    def matches(self, line: ScriptLine) -> bool:
        """Whether an executed line satisfies the group."""
        return line.action in self.actions and (self.target is None or self.target in line.ids)


@dataclass(frozen=True)
class Goal:
    """Goal conditions: node states, edges (``HOLDS`` = either hand) and ordered action groups."""

    states: tuple[tuple[int, str], ...] = ()
    relations: tuple[tuple[int, str, int], ...] = ()
    actions: tuple[ActionGoal, ...] = ()

    def ids(self) -> tuple[int, ...]:
        """Every node id the goal mentions, in order of first mention."""
        found: dict[int, None] = {}
        for node_id, _ in self.states:
            found[node_id] = None
        for a, _, b in self.relations:
            found[a] = found[b] = None
        for group in self.actions:
            if group.target is not None:
                found[group.target] = None
        return tuple(found)

    def state_holds(self, sim: GraphState, condition: tuple[int, str]) -> bool:
        return condition[1] in sim.states(condition[0])

    def relation_holds(self, sim: GraphState, condition: tuple[int, str, int]) -> bool:
        a, relation, b = condition
        if relation == "HOLDS":
            return sim.has_edge(a, "HOLDS_RH", b) or sim.has_edge(a, "HOLDS_LH", b)
        return sim.has_edge(a, relation, b)

    def conditions_hold(self, sim: GraphState) -> bool:
        """Whether every node and edge goal holds now."""
        return all(self.state_holds(sim, c) for c in self.states) and all(
            self.relation_holds(sim, c) for c in self.relations)

    def satisfied(self, sim: GraphState, actions_matched: int) -> bool:
        """Whether the goal is met, given how many action groups have been matched so far."""
        return actions_matched >= len(self.actions) and self.conditions_hold(sim)

    def progress(self, sim: GraphState, actions_matched: int) -> float:
        """Fraction of conditions met (each node/edge goal and each action group counts once)."""
        total = len(self.states) + len(self.relations) + len(self.actions)
        met = sum(self.state_holds(sim, c) for c in self.states) + sum(
            self.relation_holds(sim, c) for c in self.relations) + min(actions_matched, len(self.actions))
        return met / total if total else 1.0

    def describe(self, class_of: Callable[[int], str]) -> list[str]:
        """The conditions as text, e.g. ``"television (65) ON"``, ``"WATCH|LOOKAT television (65)"``."""
        def name(node_id: int) -> str:
            return f"{class_of(node_id)} ({node_id})"

        lines = [f"{name(i)} {state}" for i, state in self.states]
        lines += [f"{name(a)} {relation} {name(b)}" for a, relation, b in self.relations]
        lines += ["|".join(g.actions) + ("" if g.target is None else f" {name(g.target)}") for g in self.actions]
        return lines


class GoalTracker:
    """Follows one episode: which action groups have been matched, and whether the goal is met."""

    def __init__(self, goal: Goal):
        self.goal = goal
        self.matched = 0

    def record(self, line: ScriptLine) -> None:
        """Note a successfully executed line (it may match the next action group)."""
        actions = self.goal.actions
        if self.matched < len(actions) and actions[self.matched].matches(line):
            self.matched += 1

    def satisfied(self, sim: GraphState) -> bool:
        return self.goal.satisfied(sim, self.matched)


# --------------------------------------------------------------------------------------------------
# Tasks.
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Task:
    """One suite task: the activity, its text, the initial graph, the goal and the pre-bound names."""

    task_id: str
    activity: str
    title: str
    description: str
    layout_id: int
    household_seed: int
    graph: dict
    goal: Goal
    bindings: tuple[tuple[str, int], ...]
    composition: bool = False

    @property
    def message(self) -> str:
        """The first user message of SPA-RL/STeCa: ``The task is {title}({description}).``"""
        return task_message(self.title, self.description)


def task_message(title: str, description: str) -> str:
    """``The task is {title}({description}).`` (no space before the parenthesis, as in SPA-RL).

    Example:
        >>> task_message("Wash hands", "Walk to bathroom. Wash the hands.")
        'The task is Wash hands(Walk to bathroom. Wash the hands.).'
    """
    return f"The task is {title}({description})."


@dataclass
class Draft:
    """What an activity variant produces in a household: description, goal, main room, extra ids."""

    description: str
    goal: Goal
    room: str
    uses: tuple[int, ...] = ()


Setup = Callable[[Household, random.Random], "Draft | None"]


@dataclass(frozen=True)
class Activity:
    """An activity: its dataset title, schedule weight, and variants (``unseen`` ones are compositions
    reserved for ``test_unseen``)."""

    key: str
    title: str
    weight: int
    variants: tuple[Setup, ...]
    unseen_variants: tuple[Setup, ...] = ()


# -- helpers for the variants ----------------------------------------------------------------------

def _room_word(rng: random.Random, room: str) -> str:
    return rng.choice(ROOM_WORDS[room])


def _pick(house: Household, rng: random.Random, class_name: str, room: str | None = None) -> int | None:
    ids = house.ids_of(class_name, room)
    return rng.choice(ids) if ids else None


def _add(house: Household, rng: random.Random, class_name: str, room: str | None = None,
         places: Iterable[tuple[str, str]] | None = None, states: tuple[str, ...] | None = None) -> int | None:
    """Add a task object at one of its usual places (optionally in ``room``); None if there is none."""
    options = [(relation, support) for relation, name in (places or PLACEMENTS[class_name])
               for support in house.ids_of(name, room)]
    if not options:
        return None
    relation, support = rng.choice(options)
    return house.add_object(class_name, relation, support, states)


def _clear_seat(house: Household, seat: int) -> None:
    """Move clutter off a seat so that the character can sit or lie on it."""
    for item in house.contents(seat):
        if house.node(item)["category"] == "placable_objects":
            room = house.room_name(seat)
            floor = house.ids_of("floor", room)[0]
            house.move_object(item, "ON", floor)


def _name(class_name: str) -> str:
    return humanize(class_name.removeprefix("food_").removeprefix("clothes_"))


def _room_of(house: Household, node_id: int) -> str:
    return house.room_name(node_id)


def _states(house: Household, node_id: int, *states: str) -> None:
    house.set_states(node_id, *states)


# -- the activities --------------------------------------------------------------------------------

def _watch_tv_sofa(house: Household, rng: random.Random) -> Draft | None:
    tv, couch = _pick(house, rng, "television", "home_office"), _pick(house, rng, "couch", "home_office")
    if tv is None or couch is None:
        return None
    _clear_seat(house, couch)
    remote = _add(house, rng, "remote_control", "home_office")
    if remote is None:
        return None
    _states(house, tv, "OFF", "PLUGGED_IN")
    room = _room_word(rng, "home_office")
    text = rng.choice((f"Walk to the {room}. Sit on the sofa. Grab the remote and turn on the television.",
                       f"I walk into the {room}, pick up the remote, turn on the TV and watch it from the couch."))
    c = house.character_id
    goal = Goal(((tv, "ON"), (c, "SITTING")), ((c, "HOLDS", remote), (c, "ON", couch), (c, "FACING", tv)),
                (ActionGoal(("WATCH", "LOOKAT"), tv),))
    return Draft(text, goal, "home_office")


def _watch_tv(house: Household, rng: random.Random) -> Draft | None:
    tv = _pick(house, rng, "television")
    if tv is None:
        return None
    _states(house, tv, "OFF", "PLUGGED_IN")
    room = _room_of(house, tv)
    text = rng.choice((f"I walk into the {_room_word(rng, room)}, switch on the television and watch my favorite show.",
                       f"Go to the {_room_word(rng, room)}. Turn on the TV, look at it and watch."))
    c = house.character_id
    return Draft(text, Goal(((tv, "ON"),), ((c, "FACING", tv),), (ActionGoal(("WATCH", "LOOKAT"), tv),)), room)


def _watch_tv_dark(house: Household, rng: random.Random) -> Draft | None:
    tv, couch = _pick(house, rng, "television", "home_office"), _pick(house, rng, "couch", "home_office")
    light = _pick(house, rng, "light", "home_office")
    if tv is None or couch is None or light is None:
        return None
    _states(house, tv, "OFF", "PLUGGED_IN")
    _states(house, light, "ON")
    _clear_seat(house, couch)
    text = (f"Walk to the {_room_word(rng, 'home_office')} and switch off the light. Turn on the TV, "
            f"then sit on the couch and watch it in the dark.")
    c = house.character_id
    goal = Goal(((light, "OFF"), (tv, "ON"), (c, "SITTING")), ((c, "ON", couch), (c, "FACING", tv)),
                (ActionGoal(("WATCH", "LOOKAT"), tv),))
    return Draft(text, goal, "home_office")


def _light_on(house: Household, rng: random.Random) -> Draft | None:
    room = rng.choice(ROOMS)
    light = _pick(house, rng, "light", room)
    if light is None:
        return None
    _states(house, light, "OFF")
    word = _room_word(rng, room)
    text = rng.choice((f"Walk to the {word} and turn on the light.",
                       f"I go to the {word}, find the light switch and flip it on.",
                       f"Go to the {word}. The room is dark, so switch the light on."))
    return Draft(text, Goal(((light, "ON"),)), room)


def _lamp_on(house: Household, rng: random.Random) -> Draft | None:
    lamp = _pick(house, rng, "floor_lamp")
    if lamp is None:
        return None
    _states(house, lamp, "OFF")
    room = _room_of(house, lamp)
    text = (f"I walk in the {_room_word(rng, room)} and notice it is dark. "
            f"I walk to the floor lamp and switch it on so that the light comes on.")
    return Draft(text, Goal(((lamp, "ON"),)), room)


def _lights_both(house: Household, rng: random.Random) -> Draft | None:
    lamp = _pick(house, rng, "floor_lamp")
    if lamp is None:
        return None
    room = _room_of(house, lamp)
    light = _pick(house, rng, "light", room)
    if light is None:
        return None
    _states(house, lamp, "OFF")
    _states(house, light, "OFF")
    text = f"Go to the {_room_word(rng, room)}. Turn on the ceiling light and the floor lamp."
    return Draft(text, Goal(((light, "ON"), (lamp, "ON"))), room)


def _light_off(house: Household, rng: random.Random) -> Draft | None:
    room = rng.choice(ROOMS)
    light = _pick(house, rng, "light", room)
    if light is None:
        return None
    _states(house, light, "ON")
    word = _room_word(rng, room)
    text = rng.choice((f"Walk to the {word} and switch off the light.",
                       f"I enter the {word}, go to the light switch and turn the light off."))
    return Draft(text, Goal(((light, "OFF"),)), room)


def _bathroom_sink(house: Household, rng: random.Random) -> tuple[int, int, int] | None:
    sink = _pick(house, rng, "sink", "bathroom")
    faucet = _pick(house, rng, "faucet", "bathroom")
    hands = _pick(house, rng, "hands_both", "bathroom")
    if sink is None or faucet is None or hands is None:
        return None
    _states(house, faucet, "OFF")
    return sink, faucet, hands


def _wash_hands_soap(house: Household, rng: random.Random) -> Draft | None:
    found = _bathroom_sink(house, rng)
    soap = _add(house, rng, "soap", "bathroom")
    if found is None or soap is None:
        return None
    sink, faucet, hands = found
    text = rng.choice(("Walk to bathroom. Walk to sink and turn on the water. Grab the soap and wash the hands.",
                       "I go to the bathroom sink, turn on the faucet, take the soap and wash my hands."))
    c = house.character_id
    goal = Goal(((faucet, "ON"),), ((c, "HOLDS", soap),), (ActionGoal(("WASH", "RINSE", "SCRUB"), hands),))
    return Draft(text, goal, "bathroom", (sink,))


def _wash_hands_rinse(house: Household, rng: random.Random) -> Draft | None:
    found = _bathroom_sink(house, rng)
    if found is None:
        return None
    sink, faucet, hands = found
    text = "Go to the bathroom, turn on the faucet at the sink and rinse your hands under the water."
    return Draft(text, Goal(((faucet, "ON"),), (), (ActionGoal(("RINSE", "WASH"), hands),)), "bathroom", (sink,))


def _wash_hands_tidy(house: Household, rng: random.Random) -> Draft | None:
    found = _bathroom_sink(house, rng)
    if found is None:
        return None
    sink, faucet, hands = found
    text = "Walk to the bathroom sink. Turn the water on, wash your hands, then turn the water off again."
    goal = Goal(((faucet, "OFF"),), (), (ActionGoal(("SWITCHON",), faucet), ActionGoal(("WASH", "RINSE"), hands),
                                         ActionGoal(("SWITCHOFF",), faucet)))
    return Draft(text, goal, "bathroom", (sink,))


def _brush_teeth(house: Household, rng: random.Random) -> Draft | None:
    brush = _add(house, rng, "toothbrush", "bathroom")
    paste = _add(house, rng, "tooth_paste", "bathroom")
    teeth = _add(house, rng, "teeth", "bathroom")
    if brush is None or paste is None or teeth is None:
        return None
    text = rng.choice((("walk to bathroom, take the toothbrush, find the toothpaste, squeeze the toothpaste onto "
                        "the toothbrush, now brush teeth"),
                       "Go to the bathroom. Grab your toothbrush, squeeze some toothpaste on it and scrub your teeth."))
    c = house.character_id
    goal = Goal((), ((c, "HOLDS", brush),), (ActionGoal(("SQUEEZE",), paste),
                                             ActionGoal(("SCRUB", "WASH", "RINSE"), teeth)))
    return Draft(text, goal, "bathroom")


def _wash_teeth(house: Household, rng: random.Random) -> Draft | None:
    found = _bathroom_sink(house, rng)
    brush = _add(house, rng, "toothbrush", "bathroom")
    if found is None or brush is None:
        return None
    sink, faucet, _ = found
    text = ("I go into the bathroom, go to the sink and get my toothbrush. I turn on the faucet and rinse "
            "the toothbrush.")
    c = house.character_id
    goal = Goal(((faucet, "ON"),), ((c, "HOLDS", brush),), (ActionGoal(("RINSE", "WASH"), brush),))
    return Draft(text, goal, "bathroom", (sink,))


def _make_coffee(house: Household, rng: random.Random) -> Draft | None:
    maker = _pick(house, rng, "coffe_maker", "dining_room")
    if maker is None:
        return None
    coffee_filter = _add(house, rng, "coffee_filter", "dining_room")
    ground = _add(house, rng, "ground_coffee", "dining_room")
    if coffee_filter is None or ground is None:
        return None
    _states(house, maker, "OFF", "CLOSED", "PLUGGED_IN")
    text = rng.choice((("Open coffee maker. Put filter in main basket, put ground coffee in filter, close it and "
                        "turn on coffee maker."),
                       (f"Walk to the {_room_word(rng, 'dining_room')}. Put a coffee filter and ground coffee in the "
                        f"coffee maker and switch it on.")))
    goal = Goal(((maker, "CLOSED"), (maker, "ON")), ((coffee_filter, "ON", maker), (ground, "ON", maker)))
    return Draft(text, goal, "dining_room")


_GROCERIES = ("food_food", "food_bread", "food_cheese", "food_carrot", "food_kiwi", "food_orange", "food_egg",
              "milk", "juice", "food_steak")


def _cold_box(house: Household, rng: random.Random) -> int | None:
    fridge = _pick(house, rng, "fridge", "dining_room") or _pick(house, rng, "freezer", "dining_room")
    if fridge is not None:
        _states(house, fridge, "CLOSED")
    return fridge


def _groceries(house: Household, rng: random.Random, count: int) -> Draft | None:
    fridge = _cold_box(house, rng)
    if fridge is None:
        return None
    food = [_add(house, rng, name, "dining_room", (("ON", "kitchen_counter"), ("ON", "table")))
            for name in rng.sample(_GROCERIES, count)]
    if None in food:
        return None
    if count == 1:
        text = ("Walk to kitchen. Grab groceries and walk to the fridge. Open fridge and put groceries in the "
                "fridge. Close the fridge.")
    else:
        names = " and the ".join(_name(house.node(f)["class_name"]) for f in food)
        text = f"Take the {names} from the kitchen and put them in the refrigerator, then close it."
    goal = Goal(((fridge, "CLOSED"),), tuple((f, "INSIDE", fridge) for f in food))
    return Draft(text, goal, "dining_room")


def _relax(house: Household, rng: random.Random, posture: str) -> Draft | None:
    couch = _pick(house, rng, "couch", "home_office")
    if couch is None:
        return None
    _clear_seat(house, couch)
    room = _room_word(rng, "home_office")
    if posture == "SITTING":
        text = rng.choice((f"walk to {room}, walk to sofa, sit in sofa, relax",
                           f"I go to the {room} and sit down on the couch to relax."))
    else:
        text = f"go to {room} and lie down on the sofa."
    c = house.character_id
    return Draft(text, Goal(((c, posture),), ((c, "ON", couch),)), "home_office")


def _relax_pillow(house: Household, rng: random.Random) -> Draft | None:
    couch = _pick(house, rng, "couch", "home_office")
    pillow = _pick(house, rng, "pillow", "bedroom")
    if couch is None or pillow is None:
        return None
    _clear_seat(house, couch)
    text = "Take a pillow from the bedroom, put it on the sofa in the living room and lie down on the sofa."
    c = house.character_id
    return Draft(text, Goal(((c, "LYING"),), ((pillow, "ON", couch), (c, "ON", couch))), "home_office")


def _sleep(house: Household, rng: random.Random, extra: str) -> Draft | None:
    bed = _pick(house, rng, "bed", "bedroom")
    if bed is None:
        return None
    _clear_seat(house, bed)
    c = house.character_id
    states: tuple[tuple[int, str], ...] = ((c, "LYING"),)
    if extra == "light":
        light = _pick(house, rng, "light", "bedroom")
        if light is None:
            return None
        _states(house, light, "ON")
        states += ((light, "OFF"),)
        text = "Go to the bedroom, switch off the light, lie in bed and go to sleep."
    elif extra == "alarm":
        clock = _add(house, rng, "alarm_clock", "bedroom", states=("OFF", "PLUGGED_IN", "CLEAN"))
        if clock is None:
            return None
        states += ((clock, "ON"),)
        text = "Go to bedroom, set the alarm clock, lie down on the bed and go to sleep."
    else:
        text = rng.choice(("Walk to bedroom, walk to bed, lay down on bed, close eyes, go to sleep.",
                           "I walk to my room, walk to my bed, lie in my bed, and go to sleep."))
    return Draft(text, Goal(states, ((c, "ON", bed),), (ActionGoal(("SLEEP",)),)), "bedroom")


def _read(house: Household, rng: random.Random, where: str) -> Draft | None:
    c = house.character_id
    states: tuple[tuple[int, str], ...] = ()
    relations: tuple[tuple[int, str, int], ...] = ()
    if where == "bed":
        novel = _add(house, rng, "novel", "bedroom", (("INSIDE", "nightstand"), ("ON", "nightstand")))
        bed = _pick(house, rng, "bed", "bedroom")
        if novel is None or bed is None:
            return None
        _clear_seat(house, bed)
        room, states, relations = "bedroom", ((c, "LYING"),), ((c, "ON", bed),)
        text = "Go to the bedroom. Grab the book out of the nightstand. Lay down in bed. Open the book. Read the book."
    elif where in ("couch", "lamp"):
        novel = _add(house, rng, "novel", "home_office")
        couch = _pick(house, rng, "couch", "home_office")
        if novel is None or couch is None:
            return None
        _clear_seat(house, couch)
        room, states, relations = "home_office", ((c, "SITTING"),), ((c, "ON", couch),)
        text = f"Go to the {_room_word(rng, room)}. Take the book, sit on the sofa and read."
        if where == "lamp":
            light = _pick(house, rng, "light", "home_office")
            if light is None:
                return None
            _states(house, light, "OFF")
            states += ((light, "ON"),)
            text = f"Turn on the light in the {_room_word(rng, room)}, take a book, sit on the sofa and read it."
    else:
        room = rng.choice(("home_office", "bedroom"))
        novel = _add(house, rng, "novel", room)
        if novel is None:
            return None
        text = rng.choice((f"Walk to the {_room_word(rng, room)}, find the book, grab it and read it.",
                           "I pick up my novel and read a few pages."))
    goal = Goal(states, ((c, "HOLDS", novel),) + relations, (ActionGoal(("READ",), novel),))
    return Draft(text, goal, room)


def _workstation(house: Household, rng: random.Random) -> tuple[int, int, int, str] | None:
    computer = _pick(house, rng, "computer")
    if computer is None:
        return None
    room = _room_of(house, computer)
    chair = next((i for i in house.ids_of("chair", room) if house.has_edge(i, "FACING", computer)), None)
    keyboard = _pick(house, rng, "keyboard", room)
    if chair is None or keyboard is None:
        return None
    _states(house, computer, "OFF")
    _clear_seat(house, chair)
    return computer, chair, keyboard, room


def _work(house: Household, rng: random.Random, seated: bool) -> Draft | None:
    found = _workstation(house, rng)
    if found is None:
        return None
    computer, chair, _, room = found
    c = house.character_id
    if seated:
        text = (f"I walk into the {_room_word(rng, room)} and to the computer to switch it on. I sit in the chair and "
                f"work on the computer.")
        return Draft(text, Goal(((computer, "ON"), (c, "SITTING")), ((c, "ON", chair),)), room)
    text = f"Walk to the {_room_word(rng, room)}, go to the computer and turn it on to start working."
    return Draft(text, Goal(((computer, "ON"),)), room)


def _email(house: Household, rng: random.Random, seated: bool) -> Draft | None:
    found = _workstation(house, rng)
    if found is None:
        return None
    computer, chair, keyboard, room = found
    c = house.character_id
    if seated:
        text = (f"Walk to {_room_word(rng, room)}. Sit on the chair. Switch on the computer. Type in the keyboard. "
                f"Write mail.")
        goal = Goal(((computer, "ON"), (c, "SITTING")), ((c, "ON", chair),), (ActionGoal(("TYPE",), keyboard),))
    else:
        text = "I need to send an email to my friend so I go to the computer, turn it on and type the email."
        goal = Goal(((computer, "ON"),), (), (ActionGoal(("TYPE",), keyboard),))
    return Draft(text, goal, room)


def _browse(house: Household, rng: random.Random, seated: bool) -> Draft | None:
    found = _workstation(house, rng)
    if found is None:
        return None
    computer, chair, _, room = found
    c = house.character_id
    look = ActionGoal(("LOOKAT", "WATCH"), computer)
    if seated:
        text = "Sit in the desk chair, switch on the computer and look at the browser."
        return Draft(text, Goal(((computer, "ON"), (c, "SITTING")), ((c, "ON", chair), (c, "FACING", computer)),
                                (look,)), room)
    mouse = _pick(house, rng, "mouse", room)
    if mouse is None:
        return None
    text = (f"walk to {_room_word(rng, room)}, find computer, switch on computer, find mouse, grab mouse, "
            f"look at the screen")
    return Draft(text, Goal(((computer, "ON"),), ((c, "HOLDS", mouse), (c, "FACING", computer)), (look,)), room)


def _dishwasher(house: Household, rng: random.Random, with_cup: bool) -> Draft | None:
    washer = _pick(house, rng, "dishwasher", "dining_room")
    if washer is None:
        return None
    _states(house, washer, "CLOSED", "OFF")
    dishes = [_add(house, rng, "plate", "dining_room", (("ON", "table"), ("ON", "kitchen_counter"), ("INSIDE", "sink")),
                   states=("DIRTY",))]
    if with_cup:
        dishes.append(_add(house, rng, "cup", "dining_room", (("ON", "table"), ("ON", "kitchen_counter")),
                           states=("DIRTY",)))
    soap = _add(house, rng, "dish_soap", "dining_room")
    if None in dishes or soap is None:
        return None
    if with_cup:
        text = "Collect the dirty plate and cup. Place them in the dishwasher. Load detergent. Turn on dishwasher."
    else:
        text = rng.choice((("I go the in kitchen then grab the plate on the table. I put the plate and dish soap "
                            "in the dishwasher. Finally, I turn on the dishwasher."),
                           ("Walk to the kitchen. Put the dirty plate and the dish soap in the dishwasher, close it "
                            "and turn it on.")))
    goal = Goal(((washer, "CLOSED"), (washer, "ON")), tuple((d, "ON", washer) for d in dishes + [soap]))
    return Draft(text, goal, "dining_room")


def _dishes_by_hand(house: Household, rng: random.Random, rack: bool) -> Draft | None:
    faucet = _pick(house, rng, "faucet", "dining_room")
    sink = _pick(house, rng, "sink", "dining_room")
    plate = _add(house, rng, "plate", "dining_room", (("INSIDE", "sink"), ("ON", "kitchen_counter")), states=("DIRTY",))
    if faucet is None or sink is None or plate is None:
        return None
    _states(house, faucet, "OFF")
    relations: tuple[tuple[int, str, int], ...] = ()
    text = "Walk to the kitchen sink, turn on the tap and scrub the dirty plate until it is clean."
    if rack:
        dishrack = _add(house, rng, "dishrack", "dining_room")
        if dishrack is None:
            return None
        relations = ((plate, "ON", dishrack),)
        text = ("Walk to the kitchen and turn to the sink. Turn on the water, scrub the plate then rinse it. Put the "
                "plate into the dish rack.")
    return Draft(text, Goal(((faucet, "ON"), (plate, "CLEAN")), relations), "dining_room", (sink,))


def _drink(house: Household, rng: random.Random, extra: str) -> Draft | None:
    name = rng.choice(("cup", "water_glass", "drinking_glass"))
    glass = _add(house, rng, name, "dining_room", (("INSIDE", "kitchen_cabinet"), ("INSIDE", "cupboard"),
                                                   ("ON", "kitchen_counter")))
    if glass is None:
        return None
    c = house.character_id
    states: tuple[tuple[int, str], ...] = ()
    relations: tuple[tuple[int, str, int], ...] = ((c, "HOLDS", glass),)
    word = _name(name)
    text = f"I go to the kitchen to get a {word} from the cabinet and take a drink."
    if extra == "faucet":
        faucet = _pick(house, rng, "faucet", "dining_room")
        if faucet is None:
            return None
        _states(house, faucet, "OFF")
        states = ((faucet, "ON"),)
        text = f"I go to the kitchen to get a {word}. I turn on the faucet and fill up the {word}. I take a drink."
    elif extra == "dishwasher":
        washer = _pick(house, rng, "dishwasher", "dining_room")
        if washer is None:
            return None
        relations = ((glass, "ON", washer),)
        text = f"Get a {word} in the kitchen, drink from it and put the {word} in the dishwasher afterwards."
    return Draft(text, Goal(states, relations, (ActionGoal(("DRINK",), glass),)), "dining_room")


def _music(house: Household, rng: random.Random, extra: str) -> Draft | None:
    room = "bedroom" if extra == "bed" else rng.choice(("bedroom", "home_office"))
    plugged = "PLUGGED_OUT" if extra == "plug" else "PLUGGED_IN"
    stereo = _add(house, rng, "stereo", room, states=("OFF", plugged, "CLOSED", "CLEAN"))
    if stereo is None:
        return None
    c = house.character_id
    word = _room_word(rng, room)
    states: tuple[tuple[int, str], ...] = ((stereo, "ON"),)
    relations: tuple[tuple[int, str, int], ...] = ()
    text = f"I walk into my {word} and turn the radio on so that I can listen to music."
    if extra == "plug":
        states = ((stereo, "PLUGGED_IN"), (stereo, "ON"))
        text = f"Go to the {word}, plug in the stereo and switch it on to listen to music."
    elif extra == "bed":
        bed = _pick(house, rng, "bed", "bedroom")
        if bed is None:
            return None
        _clear_seat(house, bed)
        states += ((c, "LYING"),)
        relations = ((c, "ON", bed),)
        text = "I go to the bedroom, turn the stereo on and lie down on the bed to listen to music."
    return Draft(text, Goal(states, relations), room)


def _pet_cat(house: Household, rng: random.Random, seated: bool) -> Draft | None:
    c = house.character_id
    if seated:
        couch = _pick(house, rng, "couch", "home_office")
        if couch is None:
            return None
        _clear_seat(house, couch)
        cat = house.add_object("cat", "ON", couch)
        text = "Sit down on the sofa next to the cat and pet it."
        return Draft(text, Goal(((c, "SITTING"),), ((c, "ON", couch),), (ActionGoal(("TOUCH",), cat),)), "home_office")
    cat = _add(house, rng, "cat")
    if cat is None:
        return None
    room = _room_of(house, cat)
    text = rng.choice((f"Walk to the {_room_word(rng, room)}, find the cat and pet it.",
                       ("Every time this animal is seen, you must approach it and show compassion for it by "
                        "petting it in a gentle manner.")))
    return Draft(text, Goal((), ((c, "CLOSE", cat),), (ActionGoal(("TOUCH",), cat),)), room)


def _phone(house: Household, rng: random.Random, seated: bool) -> Draft | None:
    couch = _pick(house, rng, "couch", "home_office")
    if seated and couch is not None:
        _clear_seat(house, couch)
    phone = _add(house, rng, "phone", "home_office" if seated else None, states=("OFF", "PLUGGED_IN", "CLEAN"))
    if phone is None or couch is None:
        return None
    c = house.character_id
    room = _room_of(house, phone)
    if seated:
        text = "Pick up the phone and sit down on the couch with it."
        return Draft(text, Goal(((c, "SITTING"),), ((c, "HOLDS", phone), (c, "ON", couch))), room)
    text = rng.choice((f"walk to {_room_word(rng, room)}, walk to the phone reach for the phone and pick up the phone.",
                       "find the phone and pick it up"))
    return Draft(text, Goal((), ((c, "HOLDS", phone),)), room)


def _channel(house: Household, rng: random.Random) -> Draft | None:
    tv = _pick(house, rng, "television", "home_office")
    remote = _add(house, rng, "remote_control", "home_office")
    if tv is None or remote is None:
        return None
    _states(house, tv, rng.choice(("ON", "OFF")), "PLUGGED_IN")
    text = rng.choice(("I find the remote then I push the button to switch it to the tv channel i want to watch",
                       "its time for my favorite show and im going change with the help of remote control and watch"))
    c = house.character_id
    goal = Goal(((tv, "ON"),), ((c, "HOLDS", remote), (c, "FACING", tv)), (ActionGoal(("PUSH", "TOUCH"), remote),))
    return Draft(text, goal, "home_office")


def _toilet(house: Household, rng: random.Random) -> Draft | None:
    toilet = _pick(house, rng, "toilet", "bathroom")
    if toilet is None:
        return None
    _clear_seat(house, toilet)
    text = rng.choice(("walk to bathroom, walk to toilet, sit on the toilet", "Go to the bathroom and use the toilet."))
    c = house.character_id
    return Draft(text, Goal(((c, "SITTING"),), ((c, "ON", toilet),)), "bathroom")


def _toilet_wash(house: Household, rng: random.Random) -> Draft | None:
    toilet = _pick(house, rng, "toilet", "bathroom")
    found = _bathroom_sink(house, rng)
    if toilet is None or found is None:
        return None
    _clear_seat(house, toilet)
    sink, _, hands = found
    text = "Walk to the bathroom, sit on the toilet, then stand up, go to the sink and wash your hands."
    goal = Goal((), (), (ActionGoal(("SIT",), toilet), ActionGoal(("WASH", "RINSE", "SCRUB"), hands)))
    return Draft(text, goal, "bathroom", (sink,))


def _wash_clothes(house: Household, rng: random.Random) -> Draft | None:
    washer = _pick(house, rng, "washing_machine")
    if washer is None:
        return None
    _states(house, washer, "CLOSED", "OFF", "PLUGGED_IN")
    clothes = _add(house, rng, rng.choice(("clothes_shirt", "clothes_pants", "clothes_dress", "clothes_socks")),
                   "bedroom", states=("DIRTY",))
    detergent = _add(house, rng, "laundry_detergent")
    if clothes is None or detergent is None:
        return None
    text = ("Bring your dirty clothes to the washing machine. Place the clothes and the laundry detergent in the "
            "washer, close the door and switch the machine on.")
    goal = Goal(((washer, "CLOSED"), (washer, "ON")), ((clothes, "ON", washer), (detergent, "ON", washer)))
    return Draft(text, goal, _room_of(house, washer))


def _get_dressed(house: Household, rng: random.Random, count: int) -> Draft | None:
    names = rng.sample(("clothes_shirt", "clothes_pants", "clothes_jacket", "clothes_hat"), count)
    clothes = [_add(house, rng, n, "bedroom", (("INSIDE", "dresser"), ("INSIDE", "closet"))) for n in names]
    if None in clothes:
        return None
    c = house.character_id
    words = " and the ".join(_name(n) for n in names)
    text = f"Walk to the bedroom, open the closet, take the {words} and put {'it' if count == 1 else 'them'} on."
    return Draft(text, Goal((), tuple((item, "ON", c) for item in clothes)), "bedroom")


def _cook(house: Household, rng: random.Random) -> Draft | None:
    microwave = _pick(house, rng, "microwave", "dining_room")
    if microwave is None:
        return None
    _states(house, microwave, "CLOSED", "OFF", "PLUGGED_IN")
    name = rng.choice(("food_pizza", "food_steak", "food_food", "food_bread"))
    food = _add(house, rng, name, "dining_room")
    if food is None:
        return None
    text = f"Take the {_name(name)}, put it in the microwave, close the door and turn the microwave on."
    return Draft(text, Goal(((microwave, "CLOSED"), (microwave, "ON")), ((food, "INSIDE", microwave),)), "dining_room")


def _snack(house: Household, rng: random.Random, seated: bool) -> Draft | None:
    name = rng.choice(("food_kiwi", "food_orange", "food_cake", "food_bread"))
    food = _add(house, rng, name, "dining_room", (("ON", "table"), ("ON", "kitchen_counter")))
    if food is None:
        return None
    c = house.character_id
    if seated:
        chair = _pick(house, rng, "chair", "dining_room")
        if chair is None:
            return None
        _clear_seat(house, chair)
        text = f"Take the {_name(name)}, sit down on a chair in the kitchen and eat it."
        return Draft(text, Goal(((c, "SITTING"),), ((c, "ON", chair),), (ActionGoal(("EAT",), food),)), "dining_room")
    text = f"Walk to the kitchen, grab the {_name(name)} and eat it."
    return Draft(text, Goal((), ((c, "HOLDS", food),), (ActionGoal(("EAT",), food),)), "dining_room")


def _clean_table(house: Household, rng: random.Random) -> Draft | None:
    table = _pick(house, rng, "table", "dining_room")
    rag = _add(house, rng, rng.choice(("rag", "sponge")), "dining_room", (("ON", "kitchen_counter"),))
    if table is None or rag is None:
        return None
    _states(house, table, "DIRTY")
    text = "Take a rag from the kitchen counter and wipe the dirty table until it is clean."
    c = house.character_id
    return Draft(text, Goal(((table, "CLEAN"),), ((c, "HOLDS", rag),)), "dining_room")


def _set_table(house: Household, rng: random.Random) -> Draft | None:
    table = _pick(house, rng, "table", "dining_room")
    store = (("INSIDE", "kitchen_cabinet"), ("INSIDE", "cupboard"), ("ON", "kitchen_counter"))
    plate = _add(house, rng, "plate", "dining_room", store)
    fork = _add(house, rng, rng.choice(("fork", "spoon")), "dining_room", store)
    if table is None or plate is None or fork is None:
        return None
    text = (f"Get a plate and a {_name(house.node(fork)['class_name'])} from the kitchen and put them on the table "
            f"for dinner.")
    return Draft(text, Goal((), ((plate, "ON", table), (fork, "ON", table))), "dining_room")


#: The activities, in schedule order, with their weights (roughly the dataset's title frequencies).
ACTIVITIES: tuple[Activity, ...] = (
    Activity("watch_tv", "Watch TV", 12, (_watch_tv_sofa, _watch_tv), (_watch_tv_dark,)),
    Activity("work", "Work", 7, (partial(_work, seated=False), partial(_work, seated=True))),
    Activity("read_book", "Read book", 7,
             (partial(_read, where=""), partial(_read, where="couch"), partial(_read, where="bed")),
             (partial(_read, where="lamp"),)),
    Activity("turn_on_light", "Turn on light", 7, (_light_on, _lamp_on), (_lights_both,)),
    Activity("change_tv_channel", "Change TV channel", 5, (_channel,)),
    Activity("relax_on_sofa", "Relax on sofa", 5,
             (partial(_relax, posture="SITTING"), partial(_relax, posture="LYING")), (_relax_pillow,)),
    Activity("browse_internet", "Browse internet", 5, (partial(_browse, seated=False), partial(_browse, seated=True))),
    Activity("pet_cat", "Pet cat", 4, (partial(_pet_cat, seated=False),), (partial(_pet_cat, seated=True),)),
    Activity("wash_hands", "Wash hands", 4, (_wash_hands_soap, _wash_hands_rinse), (_wash_hands_tidy,)),
    Activity("pick_up_phone", "Pick up phone", 4, (partial(_phone, seated=False),), (partial(_phone, seated=True),)),
    Activity("write_an_email", "Write an email", 4, (partial(_email, seated=False), partial(_email, seated=True))),
    Activity("drink", "Drink", 4, (partial(_drink, extra=""), partial(_drink, extra="faucet")),
             (partial(_drink, extra="dishwasher"),)),
    Activity("listen_to_music", "Listen to music", 4, (partial(_music, extra=""), partial(_music, extra="plug")),
             (partial(_music, extra="bed"),)),
    Activity("put_groceries_in_fridge", "Put groceries in Fridge", 3,
             (partial(_groceries, count=1), partial(_groceries, count=2))),
    Activity("wash_dishes_with_dishwasher", "Wash dishes with dishwasher", 3,
             (partial(_dishwasher, with_cup=False), partial(_dishwasher, with_cup=True))),
    Activity("go_to_sleep", "Go to sleep", 3, (partial(_sleep, extra=""), partial(_sleep, extra="light")),
             (partial(_sleep, extra="alarm"),)),
    Activity("brush_teeth", "Brush teeth", 3, (_brush_teeth,)),
    Activity("wash_teeth", "Wash teeth", 2, (_wash_teeth,)),
    Activity("make_coffee", "Make coffee", 2, (_make_coffee,)),
    Activity("go_to_toilet", "Go to toilet", 2, (_toilet,), (_toilet_wash,)),
    Activity("wash_clothes", "Wash clothes", 2, (_wash_clothes,)),
    Activity("get_dressed", "Get dressed", 2, (partial(_get_dressed, count=1), partial(_get_dressed, count=2))),
    Activity("wash_dishes_by_hand", "Wash dishes by hand", 2, (partial(_dishes_by_hand, rack=False),),
             (partial(_dishes_by_hand, rack=True),)),
    Activity("turn_off_light", "Turn off light", 2, (_light_off,)),
    Activity("cook_some_food", "Cook some food", 2, (_cook,)),
    Activity("have_snack", "Have snack", 2, (partial(_snack, seated=False),), (partial(_snack, seated=True),)),
    Activity("clean_table", "Clean table", 1, (_clean_table,)),
    Activity("set_up_table", "Set up table", 1, (_set_table,)),
)
ACTIVITY_BY_KEY: dict[str, Activity] = {activity.key: activity for activity in ACTIVITIES}


# --------------------------------------------------------------------------------------------------
# The suite.
# --------------------------------------------------------------------------------------------------

class TaskSuite(SplitTaskIds):
    """One split of the generated suite: ``"train"``, ``"test_seen"`` or ``"test_unseen"``."""

    def __init__(self, split: str = "train"):
        if split not in SPLIT_SIZES:
            raise ValueError(f"unknown VirtualHome split {split!r}; expected one of {SPLITS}")
        self.split = split

    def __len__(self) -> int:
        return SPLIT_SIZES[self.split]

    def activity(self, index: int) -> str:
        """The activity key of task ``index`` (cheap: no household is built)."""
        self._check_index(index)
        return _schedule(self.split)[index]

    def task(self, index: int) -> Task:
        """Task ``index`` (built on first use, then cached)."""
        self._check_index(index)
        return _build_task(self.split, index)



@cache
def _schedule(split: str) -> tuple[str, ...]:
    weights = [a.weight for a in ACTIVITIES]
    size = SPLIT_SIZES[split]
    counts = [size * w // sum(weights) for w in weights]
    for i in sorted(range(len(weights)), key=lambda k: -weights[k])[:size - sum(counts)]:
        counts[i] += 1
    schedule = [a.key for a, count in zip(ACTIVITIES, counts) for _ in range(count)]
    random.Random(f"vh-suite-{SUITE_VERSION}-{split}-schedule").shuffle(schedule)
    return tuple(schedule)


@lru_cache(maxsize=128)
def _build_task(split: str, index: int) -> Task:
    activity = ACTIVITY_BY_KEY[_schedule(split)[index]]
    rng = random.Random(f"vh-suite-{SUITE_VERSION}-{split}-{index}")
    unseen = split == "test_unseen"
    layouts = UNSEEN_LAYOUT_IDS if unseen else SEEN_LAYOUT_IDS
    composition = unseen and bool(activity.unseen_variants) and rng.random() < UNSEEN_COMPOSITION_RATE
    variants = activity.unseen_variants if composition else activity.variants
    for _ in range(100):
        layout_id, seed = rng.choice(layouts), rng.randrange(1 << 31)
        variant = rng.choice(variants)
        house = generate_household(layout_id, seed)
        draft = variant(house, rng)
        if draft is None:
            continue
        bindings = _bindings(house, draft)
        if bindings is None:
            continue
        others = [room for room in ROOMS if room != draft.room]
        house.place_character(rng.choice(others), sitting="SITTING" in house.node(house.character_id)["states"])
        return Task(f"{split}-{index:04d}", activity.key, activity.title, draft.description, layout_id, seed,
                    house.graph(), draft.goal, bindings, composition)
    raise RuntimeError(f"could not generate {split} task {index} ({activity.key}) in 100 attempts")


def _bindings(house: Household, draft: Draft) -> tuple[tuple[str, int], ...] | None:
    """The task's pre-bound names (like the dataset's ``object_id_dict``): the objects of the goal and
    the ``uses``, the openable things they are in and their rooms; None if two of them share a class."""
    ids: list[int] = []
    for node_id in draft.goal.ids() + draft.uses:
        if node_id == house.character_id:
            continue
        ids.append(node_id)
        ids.extend(support for relation, support in house.supports(node_id)
                   if "CAN_OPEN" in CLASSES[house.node(support)["class_name"]].properties)
    bindings: dict[str, int] = {}
    for node_id in ids:
        for bound in (node_id, house.room_of(node_id)):
            if bound is None:
                continue
            name = house.node(bound)["class_name"]
            if bindings.setdefault(name, bound) != bound:
                return None
    return tuple(sorted(bindings.items()))
