"""VirtualHome's state key, clone_state and restore_state.

The round trips play recorded programs of the real simulator (``shared/fixtures/virtualhome``) as
commands, with rejected commands and, in strict parity mode, commands whose binding draws from the
env's RNG, and random walks on suite tasks: from every saved point, restoring (twice, and into a fresh
env) must go on exactly as the original did.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import random
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest

from conftest import check_restores as check_round_trips
from conftest import play_checking_keys as play
from spa_gym.envs.virtualhome.text import humanize_command

#: Recorded programs replayed here (a short one and four of the longest).
PROGRAMS = ("454_2", "806_2", "509_2", "525_2", "378_1")


def make(**kwargs: Any) -> gym.Env:
    """``gym.make`` of VirtualHome whose step limit never interferes."""
    return gym.make("SPA-VirtualHome-v0", **{"max_episode_steps": 1000, **kwargs})


def rng_draws(env: gym.Env, actions: list[str]) -> list[bool]:
    """Play ``actions``; whether each one drew from the env's RNG."""
    drew = []
    for action in actions:
        before = env.unwrapped.np_random.bit_generator.state
        env.step(action)
        drew.append(env.unwrapped.np_random.bit_generator.state != before)
    return drew


# --------------------------------------------------------------------------- the recordings
@pytest.fixture(scope="module")
def records(virtualhome_fixtures: Path) -> dict[str, dict]:
    loaded = {}
    for program_id in PROGRAMS:
        with gzip.open(virtualhome_fixtures / f"{program_id}.json.gz") as file:
            loaded[program_id] = json.load(file)
    return loaded


def program_env(record: dict, strict: bool) -> gym.Env:
    program = {key: record[key] for key in ("title", "description", "script")}
    return make(graph=record["initial_graph"], program=program, strict_parity=strict)


def with_detours(env: gym.Env) -> list[str]:
    """The program's commands, with after every third one a detour: a walk to a class of several
    objects that no name is bound to yet (strict parity draws the object with the RNG), a rejected
    command that binds a name, nonsense, an empty command, and after each grab a two-object command
    (strict parity draws which held object with the RNG; it fails: an object into itself)."""
    sim, binder = env.unwrapped.sim, env.unwrapped.binder
    counts: dict[str, int] = {}
    for node_id in sim.node_ids():
        counts[sim.class_name(node_id)] = counts.get(sim.class_name(node_id), 0) + 1
    rooms = sorted(sim.class_name(room) for room in sim.room_ids())
    several = [name for name, count in sorted(counts.items())
               if count > 1 and name not in binder.bindings and name not in rooms and name != "character"]
    detours = [f"walk to {several[0]}", f"fly {rooms[0]}", "dance wildly", "", f"walk to {several[len(several) // 2]}",
               f"find {several[-1]}"]
    commands = []
    for number, line in enumerate(env.unwrapped.custom.lines):
        commands.append(humanize_command(line.action, [name for name, _ in line.args]))
        if line.action == "GRAB":
            name = line.args[0][0]
            commands.append(f"put {name} on {name}")
        if number % 3 == 2:
            commands.append(detours[(number // 3) % len(detours)])
    return commands


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("program_id", PROGRAMS)
def test_recorded_programs_round_trip(records: dict[str, dict], program_id: str, strict: bool) -> None:
    record = records[program_id]
    env = program_env(record, strict)
    env.reset(seed=3)
    actions = with_detours(env)
    drew = rng_draws(env, actions)
    n = len(actions)
    assert any(drew) is strict  # only strict parity binds with the RNG
    assert any(drew[n // 4:]) is strict  # and then it decides some of what follows the saved points
    check_round_trips(lambda: program_env(record, strict), {"seed": 3}, actions,
                      sorted({0, 1, n // 4, n // 2, 3 * n // 4, n - 1, n}), {"seed": 99})


def test_the_gold_program_still_wins_after_a_restore(records: dict[str, dict]) -> None:
    record = records["454_2"]
    env = program_env(record, strict=False)
    env.reset()
    commands = [humanize_command(line.action, [n for n, _ in line.args]) for line in env.unwrapped.custom.lines]
    play(env, commands[:3])
    state = env.unwrapped.clone_state()
    other = program_env(record, strict=False)
    other.reset()
    other.unwrapped.restore_state(state)
    assert other.unwrapped.expert_action() == commands[3]  # the expert follows the program from where it was
    results = play(other, commands[3:])
    assert results[-1][1:3] == (1.0, True) and results[-1][4]["won"] and results[-1][4]["goal_progress"] == 1.0


# --------------------------------------------------------------------------- suite tasks
def random_walk(env: gym.Env, seed: int, steps: int) -> list[str]:
    """Random admissible commands, some rejected ones, and the expert's commands in the second half."""
    rng = random.Random(seed)
    actions = []
    info = env.unwrapped._info()
    for number in range(steps):
        if number > steps // 2 and (expert := env.unwrapped.expert_action()) is not None and rng.random() < 0.5:
            action = expert
        elif rng.random() < 0.15:
            action = rng.choice(["fly bedroom", "grab wall", "walk to kitchen", "put cup in cup", "", "walk to chair"])
        else:
            action = rng.choice(info["admissible_actions"])
        actions.append(action)
        _, _, terminated, _, info = env.step(action)
        if terminated:
            break
    return actions


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("task_index", [3, 11])
def test_random_walks_on_suite_tasks_round_trip(strict: bool, task_index: int) -> None:
    env = make(split="test_seen", strict_parity=strict)
    env.reset(seed=task_index, options={"task_index": task_index})
    actions = random_walk(env, seed=task_index, steps=40)
    n = len(actions)
    check_round_trips(lambda: make(split="test_seen", strict_parity=strict),
                      {"seed": task_index, "options": {"task_index": task_index}}, actions,
                      sorted({0, 2, n // 3, n // 2, 2 * n // 3, n - 1, n}),
                      {"seed": 5, "options": {"task_index": task_index + 1}})


def test_restoring_with_kept_bindings_on_reject() -> None:
    def make_env() -> gym.Env:
        return make(split="test_seen", strict_parity=True, keep_bindings_on_reject=True)

    env = make_env()
    env.reset(seed=1, options={"task_index": 7})
    actions = random_walk(env, seed=7, steps=30)
    check_round_trips(make_env, {"seed": 1, "options": {"task_index": 7}}, actions, [0, 5, 12, 20, len(actions)],
                      {"seed": 2, "options": {"task_index": 0}})


# --------------------------------------------------------------------------- the state key
def keys(actions: list[str], task_id: str = "test_seen-0000", **kwargs: Any) -> list[tuple]:
    """``(grounded, bindings_changed, state_key)`` after each action, the reset's key first."""
    env = make(split="test_seen", **kwargs)
    _, info = env.reset(options={"task_id": task_id})
    steps = [result[4] for result in play(env, actions)]
    return [info["state_key"], *((step["grounded"], step["bindings_changed"], step["state_key"]) for step in steps)]


def test_state_key_names_the_world_not_the_path() -> None:
    """Pick up phone: the phone is in the home office; both names are bound from the start."""
    start, (_, _, at_phone) = keys(["walk to phone"])
    assert at_phone != start
    via_office = keys(["walk to home office", "walk to phone"])  # the last object bound changes each time
    assert via_office[1][2] not in (start, at_phone) and via_office[2] == (True, True, at_phone)
    assert keys(["walk to phone", "walk to phone"])[2] == (True, False, at_phone)  # walking there again: no change
    holding = keys(["walk to phone", "grab phone"])[2]
    assert holding[:2] == (True, False) and holding[2] not in (start, at_phone)


def test_rejected_commands_change_the_key_only_through_the_binder() -> None:
    start, (_, _, at_phone), *rejected = keys(["walk to phone", "walk to kitchen", "asdf", "grab home office", "fly"])
    assert rejected == [(False, False, at_phone), (False, False, at_phone), (False, True, rejected[2][2]),
                        (False, False, rejected[2][2])]
    # "grab home office" fails, yet makes the home office the last object bound: a later "walk to light"
    # picks the light near it, so it is another state
    assert rejected[2][2] != at_phone
    # "fly bedroom" binds the bedroom: another state; unless rejected commands keep the binder as it was
    assert keys(["walk to phone", "fly bedroom"])[2] == (False, True, keys(["walk to phone", "fly bedroom"])[2][2])
    assert keys(["walk to phone", "fly bedroom"])[2][2] != at_phone
    assert keys(["walk to phone", "fly bedroom"], keep_bindings_on_reject=True)[2] == (False, False, at_phone)
    assert keys(["walk to phone", ""], strict_parity=True)[2] == (False, False, at_phone)  # "Error Input..."


def test_binder_part_of_the_world() -> None:
    env = make(split="test_seen")
    env.reset(options={"task_id": "test_seen-0000"})
    assert env.unwrapped._world_state() == (
        "test_seen-0000", (((), (), ()), ()), (("home_office", 1), ("phone", 1000)), -1, 0, 0)
    play(env, ["walk to phone", "fly bedroom"])
    task, sim_world, bindings, last_id, matched, done = env.unwrapped._world_state()
    assert (bindings, last_id, matched, done) == ((("bedroom", 44), ("home_office", 1), ("phone", 1000)), 44, 0, 0)
    play(env, ["grab phone"])
    (edges, states, orders), grabbed = env.unwrapped._world_state()[1]
    assert ((15, "HOLDS_RH"), (1000,), ()) in edges and ((1000, "ON"), (), (61,)) in edges
    assert grabbed == ((1000, (61, "ON")),) and states == () and orders == (
        ((15, "INSIDE"), (1,)), ((1000, "CLOSE"), (15,)))
    # Wash hands: the goal's ordered action (wash the hands) is matched: part of the state
    env.reset(options={"task_id": "test_seen-0005"})
    play(env, ["walk to soap", "grab soap", "switch on faucet"])
    assert env.unwrapped._world_state()[4] == 0
    (_, reward, terminated, _, info), = play(env, ["rinse hands both"])
    assert (reward, terminated, env.unwrapped._world_state()[4]) == (1.0, True, 1)


def test_virtualhome_set_order_is_state() -> None:
    """VirtualHome deep-copies its edge sets at every step, which can reorder a set (here the things the
    scissors are close to, period 2) and decides e.g. which support GRAB remembers: walking again to
    where the character stands changes no edge, yet it is another state every other time."""
    walk = ["Walk to dish soap", "Walk to microwave", "Walk to light", "Walk to chair", "Walk to floor lamp",
            "Walk to television", "Walk to mousepad", "Walk to tvstand", "Walk to scissors"]
    env = make(split="test_seen")
    env.reset(options={"task_id": "test_seen-0003"})
    play(env, walk)
    seen = [(env.unwrapped._world_state(), env.unwrapped.state_key())]
    for _, _, _, _, info in play(env, ["Walk to scissors"] * 3):
        assert (info["grounded"], info["bindings_changed"]) == (True, False)
        seen.append((env.unwrapped._world_state(), info["state_key"]))
    (w0, k0), (w1, k1), (w2, k2), (w3, k3) = seen
    assert (k2, k3) == (k0, k1) and k0 != k1
    (edges0, states0, orders0), grabbed0 = w0[1]
    (edges1, states1, orders1), grabbed1 = w1[1]
    assert (edges0, states0, grabbed0, w0[2:]) == (edges1, states1, grabbed1, w1[2:]) and orders0 != orders1
    changed = [(a, b) for a, b in zip(orders0, orders1) if a != b]
    assert changed == [(((2012, "CLOSE"), (2022, 2005, 78, 15)), ((2012, "CLOSE"), (78, 2005, 2022, 15)))]
    assert env.unwrapped.sim.class_name(2012) == "scissors"


def test_own_graph_keys_tell_programs_apart(records: dict[str, dict]) -> None:
    first = program_env(records["454_2"], strict=False).reset()[1]
    second = program_env(records["806_2"], strict=False).reset()[1]
    again = program_env(records["454_2"], strict=False).reset()[1]
    assert first["task_id"] == second["task_id"] == "custom-0000"
    assert first["state_key"] != second["state_key"] and first["state_key"] == again["state_key"]


# --------------------------------------------------------------------------- misuse
def test_restore_state_rejects_what_clone_state_did_not_return() -> None:
    env = make(split="test_seen")
    env.reset(options={"task_index": 0})
    with pytest.raises(TypeError, match="restore_state takes what clone_state returned, got tuple"):
        env.unwrapped.restore_state(("test_seen-0000", 0))
    state = env.unwrapped.clone_state()
    with pytest.raises(TypeError, match="a VirtualHome env's clone_state returned, got an episode of tuple"):
        env.unwrapped.restore_state(dataclasses.replace(state, episode=("spa-webshop-episode",)))
    with pytest.raises(ValueError, match="another task suite"):
        make(split="test_unseen").unwrapped.restore_state(state)
