"""Tests for the procedural ALFWorld scene generator (spa_gym.envs.alfworld.scenes)."""

from __future__ import annotations

import hashlib
import random
import re
from collections import Counter

import pytest

from spa_gym.envs.alfworld.engine import Episode
from spa_gym.envs.alfworld.game import Game, class_of, compile_game
from spa_gym.envs.alfworld.problem import TASK_TYPES, Goal
from spa_gym.envs.alfworld.scenes import (
    APPLIANCE,
    CAN_CONTAIN,
    DECOR_HOSTS,
    GOAL_TEMPLATES,
    LAMPS,
    LAYOUTS,
    LAYOUTS_BY_ID,
    OPENABLE,
    ROOM_TYPES,
    ROOMS_FOR_TASK,
    SCENES_VERSION,
    UNSEEN_LAYOUT_IDS,
    generate_problem,
    goal_candidates,
)
from spa_gym.envs.alfworld.text import put_command

SEEDS = (0, 1)
SIZE_BOUNDS = {"kitchen": (25, 50), "livingroom": (10, 25), "bedroom": (10, 25), "bathroom": (8, 15)}
VERBS = {
    "pick_clean_then_place_in_recep": "clean",
    "pick_heat_then_place_in_recep": "heat",
    "pick_cool_then_place_in_recep": "cool",
}


def sample_goals(layout, task_type):
    """Up to three goals per layout and task type: first, middle and last candidate."""
    goals = goal_candidates(layout, task_type)
    if not goals:
        return []
    picked = {0, len(goals) // 2, len(goals) - 1}
    return [goals[i] for i in sorted(picked)]


CASES = [
    (layout.layout_id, goal, seed)
    for layout in LAYOUTS
    for task_type in TASK_TYPES
    for goal in sample_goals(layout, task_type)
    for seed in SEEDS
]


def solve(game: Game) -> Episode:
    """A scripted solve with full state knowledge: fetch, process, place (twice for pick-two), or use the lamp."""
    episode = Episode(game)
    goal = game.goal
    rnames, onames = game.receptacle_names, game.object_names

    def do(command: str) -> None:
        assert not episode.won, f"won before {command!r}"
        observation, grounded = episode.step(command)
        assert grounded, (command, observation, episode.admissible_commands())

    def go(r: int) -> None:
        if game.receptacle_location[r] != episode.agent_location:
            do("go to " + rnames[r])

    def go_open(r: int) -> None:
        go(r)
        if game.openable[r] and not episode.opened[r]:
            do("open " + rnames[r])

    def fetch(o: int) -> None:
        (r,) = episode.containers[o]
        go_open(r)
        do(f"take {onames[o]} from {rnames[r]}")

    def first(kind: str) -> int:
        return next(r for r, rtype in enumerate(game.receptacle_types) if rtype == kind)

    targets = [o for o, otype in enumerate(game.object_types) if otype == goal.object_type]
    if goal.task_type == "look_at_obj_in_light":
        fetch(targets[0])
        lamp = next(o for o, otype in enumerate(game.object_types) if otype == goal.toggle_type)
        (host,) = episode.containers[lamp]
        go(host)
        do("use " + onames[lamp])
        return episode
    parent = first(goal.parent_type)
    needed = 2 if goal.task_type == "pick_two_obj_and_place" else 1
    for o in targets[:needed]:
        fetch(o)
        if goal.task_type in VERBS:
            appliance = first(APPLIANCE[goal.task_type])
            go(appliance)
            do(f"{VERBS[goal.task_type]} {onames[o]} with {rnames[appliance]}")
        go_open(parent)
        do(put_command(game.grammar, onames[o], rnames[parent]))
    return episode


# -- layouts ----------------------------------------------------------------------------------------

def test_thirty_layouts_per_room_with_alfred_numbering():
    assert len(LAYOUTS) == 120
    assert Counter(layout.room for layout in LAYOUTS) == {room: 30 for room in ROOM_TYPES}
    first = {"kitchen": 1, "livingroom": 201, "bedroom": 301, "bathroom": 401}
    for room in ROOM_TYPES:
        ids = [layout.layout_id for layout in LAYOUTS if layout.room == room]
        assert ids == list(range(first[room], first[room] + 30))
    assert set(LAYOUTS_BY_ID) == {layout.layout_id for layout in LAYOUTS}


def test_unseen_layouts_are_alfreds():
    assert UNSEEN_LAYOUT_IDS == frozenset({10, 219, 308, 424})
    assert UNSEEN_LAYOUT_IDS <= set(LAYOUTS_BY_ID)
    assert [layout.room for layout in LAYOUTS if layout.unseen] == ["kitchen", "livingroom", "bedroom", "bathroom"]


def test_rooms_for_task_follow_goals_valid():
    assert set(ROOMS_FOR_TASK) == set(TASK_TYPES)
    assert ROOMS_FOR_TASK["pick_and_place_simple"] == ROOM_TYPES
    assert ROOMS_FOR_TASK["pick_two_obj_and_place"] == ROOM_TYPES
    assert ROOMS_FOR_TASK["look_at_obj_in_light"] == ("livingroom", "bedroom")
    assert ROOMS_FOR_TASK["pick_clean_then_place_in_recep"] == ("kitchen", "bathroom")
    assert ROOMS_FOR_TASK["pick_heat_then_place_in_recep"] == ("kitchen",)
    assert ROOMS_FOR_TASK["pick_cool_then_place_in_recep"] == ("kitchen",)


def test_layouts_are_pinned_by_scenes_version():
    # Changing the tables or the builder changes every game: bump SCENES_VERSION and this fingerprint together.
    assert SCENES_VERSION == "1"
    digest = hashlib.sha256(repr(LAYOUTS).encode()).hexdigest()[:16]
    assert digest == LAYOUTS_FINGERPRINT


LAYOUTS_FINGERPRINT = "8f0153cedced98cf"


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda layout: str(layout.layout_id))
def test_layout_shape(layout):
    low, high = SIZE_BOUNDS[layout.room]
    n_receptacles = sum(count for _, count in layout.receptacles)
    assert low <= n_receptacles <= high
    ids = [rid for point in layout.points for rid in point]
    assert len(ids) == len(set(ids)) == n_receptacles
    assert Counter(class_of(rid) for rid in ids) == dict(layout.receptacles)
    assert any(not point for point in layout.points), "no free point for the agent"
    assert all(len({class_of(rid) for rid in point}) <= 1 for point in layout.points)
    for otype, rid in layout.decor:
        assert class_of(rid) in DECOR_HOSTS[otype]
    assert all(layout.points[k] == () for _, k in layout.floor)
    if layout.room == "kitchen":
        assert {"fridge", "microwave", "sinkbasin", "stoveburner", "countertop", "cabinet"} <= set(
            layout.receptacle_types
        )
    if layout.room in ROOMS_FOR_TASK["look_at_obj_in_light"]:
        assert layout.lamp_types and set(layout.lamp_types) <= set(LAMPS)


def test_shared_points_exist_like_alfworld():
    shared = Counter(class_of(point[0]) for layout in LAYOUTS for point in layout.points if len(point) > 1)
    assert {"stoveburner", "drawer", "cabinet"} <= set(shared)


# -- goals ------------------------------------------------------------------------------------------

def test_goal_candidates_respect_rooms_and_rules():
    for layout in LAYOUTS:
        present = set(layout.receptacle_types)
        for task_type in TASK_TYPES:
            goals = goal_candidates(layout, task_type)
            if layout.room not in ROOMS_FOR_TASK[task_type]:
                assert goals == []
                continue
            assert goals, (layout.layout_id, task_type)
            keys = [(g.object_type, g.parent_type, g.toggle_type) for g in goals]
            assert keys == sorted(set(keys))
            for goal in goals:
                assert goal.task_type == task_type
                assert goal.object_type in layout.object_types
                if task_type == "look_at_obj_in_light":
                    assert goal.parent_type == "" and goal.toggle_type in layout.lamp_types
                    continue
                assert goal.toggle_type == "" and goal.parent_type in present
                assert goal.object_type in CAN_CONTAIN[goal.parent_type]
                assert goal.parent_type != APPLIANCE.get(task_type)
                assert any(goal.object_type in CAN_CONTAIN[r] for r in present - {goal.parent_type})


def test_generate_rejects_unsupported_goal():
    bathroom = LAYOUTS_BY_ID[401]
    with pytest.raises(ValueError, match=r"^layout 401 \(bathroom\) cannot host the goal "
                                         r"Goal\(task_type='pick_heat_then_place_in_recep', object_type='apple'"):
        generate_problem(bathroom, Goal("pick_heat_then_place_in_recep", "apple", "countertop"), random.Random(0))
    kitchen = LAYOUTS_BY_ID[1]
    # apples never go in cabinets
    with pytest.raises(ValueError, match=r"^layout 1 \(kitchen\) cannot host the goal "
                                         r"Goal\(task_type='pick_and_place_simple', object_type='apple', "
                                         r"parent_type='cabinet'"):
        generate_problem(kitchen, Goal("pick_and_place_simple", "apple", "cabinet"), random.Random(0))


# -- problems ---------------------------------------------------------------------------------------

def check_problem(layout, goal, seed):
    problem = generate_problem(layout, goal, random.Random(seed))
    assert problem == generate_problem(layout, goal, random.Random(seed))
    assert problem.goal == goal and problem.grammar == "2.1.1"
    template_texts = {
        t.format(obj=goal.object_type, recep=goal.parent_type, toggle=goal.toggle_type)
        for t in GOAL_TEMPLATES[goal.task_type]
    }
    assert problem.goal_text in template_texts

    # Locations: the agent starts at a point with no receptacle; every receptacle has a declared point.
    assert problem.agent_location in problem.locations
    assert problem.agent_location not in set(problem.receptacle_location.values())
    assert set(problem.receptacle_location.values()) <= set(problem.locations)
    assert problem.openable == {r for r, t in problem.receptacle_types.items() if t in OPENABLE}
    assert problem.opened == set()

    # Placement: one receptacle per object, allowed by can_contain (decor: by DECOR_HOSTS).
    otypes, rtypes = problem.object_types, problem.receptacle_types
    containers = Counter(o for o, _ in problem.in_receptacle)
    assert max(containers.values()) == 1
    pickupable = problem.flags["pickupable"]
    for o, r in problem.in_receptacle:
        if o in pickupable:
            assert (rtypes[r], otypes[o]) in problem.can_contain, (o, r)
            assert otypes[o] in CAN_CONTAIN[rtypes[r]]
        else:
            assert rtypes[r] in DECOR_HOSTS[otypes[o]], (o, r)
        assert (o, problem.receptacle_location[r]) in problem.object_at_location
    assert Counter(o for o, _ in problem.object_at_location) == Counter(set(otypes))
    for rtype, otype in problem.can_contain:
        assert rtype in rtypes.values() and otype in otypes.values() and otype in CAN_CONTAIN[rtype]

    # Counts and flags.
    per_type = Counter(otypes[o] for o in containers if o in pickupable)
    assert set(per_type) == set(layout.object_types)
    assert all(1 <= n <= 3 for t, n in per_type.items() if t != goal.object_type)
    low = 2 if goal.task_type == "pick_two_obj_and_place" else 1
    assert low <= per_type[goal.object_type] <= 4
    assert not problem.flags["istoggled"] and not problem.flags["ison"]
    assert not problem.flags["isclean"] and not problem.flags["ishot"]
    for o in problem.flags["iscool"]:
        (r,) = [r for oo, r in problem.in_receptacle if oo == o]
        assert otypes[o] == goal.object_type and rtypes[r] == "fridge"
    lamps = {o for o, t in otypes.items() if t in LAMPS}
    assert lamps == problem.flags["toggleable"] and not lamps & pickupable

    # Not already satisfied: no target in a parent-type receptacle.
    if goal.parent_type:
        assert not any(otypes[o] == goal.object_type and rtypes[r] == goal.parent_type
                       for o, r in problem.in_receptacle)
    return problem


def check_intro(game, layout):
    intro = Episode(game).intro()
    room_line = intro.split("\n\n")[1]
    match = re.fullmatch(r"You are in the middle of a room\. Looking quickly around you, you see (.*)\.", room_line)
    assert match
    names = [item.removeprefix("and ").removeprefix("a ") for item in match.group(1).split(", ")]
    assert len(names) == sum(count for _, count in layout.receptacles)
    runs: list[tuple[str, list[int]]] = []
    for name in names:
        cls, number = name.rsplit(" ", 1)
        if runs and runs[-1][0] == cls:
            runs[-1][1].append(int(number))
        else:
            runs.append((cls, [int(number)]))
    assert len({cls for cls, _ in runs}) == len(runs), "a class appears twice"
    for cls, numbers in runs:
        assert numbers == list(range(len(numbers), 0, -1)), (cls, numbers)
    assert {cls: len(numbers) for cls, numbers in runs} == dict(layout.receptacles)


@pytest.mark.parametrize("room", ROOM_TYPES)
def test_generated_problems_are_sound_and_solvable(room):
    checked = Counter()
    for layout_id, goal, seed in CASES:
        layout = LAYOUTS_BY_ID[layout_id]
        if layout.room != room:
            continue
        problem = check_problem(layout, goal, seed)
        game = compile_game(problem, source=f"layout {layout_id} seed {seed}")
        assert Episode(game).goal_satisfied() is False
        if seed == SEEDS[0]:
            check_intro(game, layout)
        episode = solve(game)
        assert episode.won, (layout_id, goal, seed)
        checked[goal.task_type] += 1
    assert set(checked) == {t for t in TASK_TYPES if room in ROOMS_FOR_TASK[t]}


@pytest.mark.parametrize("layout_id", sorted(UNSEEN_LAYOUT_IDS))
def test_every_candidate_of_unseen_layouts_is_solvable(layout_id):
    layout = LAYOUTS_BY_ID[layout_id]
    for task_type in TASK_TYPES:
        for i, goal in enumerate(goal_candidates(layout, task_type)):
            game = compile_game(generate_problem(layout, goal, random.Random(1000 + i), grammar="2.1.3"))
            assert Episode(game).goal_satisfied() is False
            assert solve(game).won, goal


def test_seeds_vary_placement_and_text():
    layout = LAYOUTS_BY_ID[1]
    goal = goal_candidates(layout, "pick_cool_then_place_in_recep")[0]
    problems = [generate_problem(layout, goal, random.Random(seed)) for seed in range(20)]
    assert len({frozenset(p.in_receptacle) for p in problems}) == 20
    assert len({p.agent_location for p in problems}) > 1
    assert len({p.goal_text for p in problems}) == 2
