"""SPA-VirtualHome-v0's Gymnasium environment: the contract, determinism, robustness, the expert."""

from __future__ import annotations

import gzip
import json
import re

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from spa_gym.envs.base import INFO_KEYS
from spa_gym.envs.virtualhome.env import VirtualHomeEnv, admissible_commands
from spa_gym.envs.virtualhome.graph import Graph
from spa_gym.envs.virtualhome.simulator import Simulator
from spa_gym.envs.virtualhome.text import ERROR_INPUT, NOTHING_HAPPENS, render_observation

EXTRA_KEYS = ("task_type", "title", "goal", "goal_progress", "layout_id", "script_line", "error",
              "bindings_changed")


def test_check_env_passes():
    check_env(VirtualHomeEnv(split="test_seen"), skip_render_check=True)
    check_env(VirtualHomeEnv(split="test_unseen", strict_parity=True), skip_render_check=True)


def test_reset_and_step_follow_the_contract():
    env = VirtualHomeEnv(split="test_seen")
    obs, info = env.reset(options={"task_id": "test_seen-0005"})
    assert obs == ("The task is Wash hands(Walk to bathroom. Walk to sink and turn on the water. Grab the soap "
                   "and wash the hands.).")
    assert set(INFO_KEYS + EXTRA_KEYS) <= set(info) and "grounded" not in info
    assert info["task"] == obs and info["task_id"] == "test_seen-0005" and info["won"] is False
    assert info["task_type"] == "wash_hands" and info["title"] == "Wash hands"
    assert info["goal"] == ["faucet (95) ON", "character (15) HOLDS soap (1000)", "WASH|RINSE|SCRUB hands_both (103)"]
    assert info["goal_progress"] == 0.0 and info["admissible_actions"][0] == "Walk to bathroom"
    obs, reward, terminated, truncated, info = env.step("walk to soap")
    assert (reward, terminated, truncated, info["grounded"]) == (0.0, False, False, True)
    assert obs == "bathroom_counter is CLEAN, hands_both is CLEAN, soap is CLEAN, soap ON bathroom_counter. "
    assert info["script_line"] == "[WALK] <soap> (1000)" and info["error"] == ""
    assert "Grab soap" in info["admissible_actions"] and "Wash hands both" in info["admissible_actions"]
    obs, reward, terminated, truncated, info = env.step("walk to kitchen")
    assert (obs, reward, terminated, info["grounded"]) == (NOTHING_HAPPENS, 0.0, False, False)
    assert info["error"] == "kitchen isn't available in the environment." and info["script_line"] == ""
    for action in ("grab soap", "switch on faucet"):
        env.step(action)
    assert env.step("rinse hands both")[1:3] == (1.0, True)
    assert env.won and env.expert_action() is None


def test_reset_options_and_errors():
    env = VirtualHomeEnv(split="test_unseen")
    assert env.num_tasks() == 247 and env.task_ids()[-1] == "test_unseen-0246"
    assert env.reset(options={"task_index": 3})[1]["task_id"] == "test_unseen-0003"
    with pytest.raises(ValueError, match="use task_id or task_index"):
        env.reset(options={"game_file": "x"})
    with pytest.raises(ValueError, match="unknown task id"):
        env.reset(options={"task_id": "train-0001"})
    with pytest.raises(IndexError, match=re.escape("task_index 247 out of range: this env has 247 tasks")):
        env.reset(options={"task_index": 247})
    with pytest.raises(ValueError, match="unknown VirtualHome split"):
        VirtualHomeEnv(split="valid_seen")
    with pytest.raises(ValueError, match="go together"):
        VirtualHomeEnv(graph={"nodes": [], "edges": []})
    with pytest.raises(RuntimeError, match="call reset"):
        VirtualHomeEnv().step("walk to bedroom")
    with pytest.raises(TypeError, match="as str"):
        env.step(42)
    with pytest.raises(TypeError, match="as str"):
        env.step(b"walk to bedroom")


def test_reset_rebuilds_the_world():
    env = VirtualHomeEnv(split="test_seen")
    first = env.reset(options={"task_index": 0})
    state = env.sim.graph()
    env.step("walk to phone")
    env.step("grab phone")
    assert env.won
    assert env.reset(options={"task_index": 0}) == first
    assert env.sim.graph() == state and not env.won and env.binder.bindings == {"home_office": 1, "phone": 1000}


def _rollout(env, seed, steps=30):
    obs, info = env.reset(seed=seed)
    trace = [(obs, info)]
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        actions = info["admissible_actions"]
        action = actions[rng.integers(len(actions))] if rng.random() < 0.8 else "grab cup"
        obs, reward, terminated, _, info = env.step(action)
        trace.append((obs, reward, terminated, info))
        if terminated:
            obs, info = env.reset()
            trace.append((obs, info))
    return trace


@pytest.mark.parametrize("strict", [False, True])
def test_same_seed_same_episode(strict):
    first = _rollout(VirtualHomeEnv(split="train", strict_parity=strict), seed=3)
    assert first == _rollout(VirtualHomeEnv(split="train", strict_parity=strict), seed=3)
    assert first != _rollout(VirtualHomeEnv(split="train", strict_parity=strict), seed=4)


def test_any_string_is_answered_without_raising():
    env = VirtualHomeEnv(split="test_seen")
    env.reset(options={"task_index": 10})
    state = env.sim.graph()
    junk = ["", " ", "\n\n", "Action:", "Thought: hmm", "🙂 walk to 🛁", "walk to " + "x" * 1_000_000,
            "put " + "a on " * 100_000, "[WALK] <bedroom> (1)", "walk to <bedroom> (1)", "grab (cup)", "\x00\x01",
            "WALK TO NOWHERE", "put cup", "put  on  ", "release", "sleep", "stand up", "fly cup", "ÄÖÜ ß" * 1000,
            "walk to bedroom\nwalk to kitchen", "look at", "pour into", "grab hands both"]
    for action in junk:
        obs, reward, terminated, _, info = env.step(action)
        assert (obs, reward, terminated, info["grounded"]) == (NOTHING_HAPPENS, 0.0, False, False), action[:40]
    assert env.sim.graph() == state
    strict = VirtualHomeEnv(split="test_seen", strict_parity=True)
    strict.reset(options={"task_index": 10})
    assert strict.step("   ")[0] == ERROR_INPUT and strict.step("Action: ")[0] == ERROR_INPUT


def test_strict_parity_lists_states_by_class():
    default, strict = VirtualHomeEnv(split="test_seen"), VirtualHomeEnv(split="test_seen", strict_parity=True)
    for env in (default, strict):
        assert env.reset(options={"task_index": 10})[0] == (
            "The task is Turn on light(Walk to the dining room and turn on the light.).")
    # the kitchen light is off; the three other rooms' lights are on (listed once: duplicates merge)
    assert default.step("walk to light")[0] == "light is OFF and PLUGGED_IN and CLEAN. "
    assert strict.step("walk to light")[0] == (
        "light is ON and PLUGGED_IN and CLEAN, light is OFF and PLUGGED_IN and CLEAN. ")


# ---------------------------------------------------------------------- rejected commands and the binder
def _walk_to_light(**kwargs):
    """Reset to Read book (the character in the bathroom, ``bedroom`` pre-bound) and play ``prefix`` then
    ``walk to light``: the prefix's steps and the walk, as (obs, grounded, script_line, bindings_changed)."""
    prefix = kwargs.pop("prefix", ())
    env = VirtualHomeEnv(split="test_seen", **kwargs)
    _, info = env.reset(options={"task_id": "test_seen-0001"})
    assert info["bindings_changed"] is False and env.binder.last_id == -1
    steps = []
    for action in (*prefix, "walk to light"):
        obs, _, _, _, info = env.step(action)
        steps.append((obs, info["grounded"], info["script_line"], info["bindings_changed"]))
    return env, steps


def test_rejected_command_moves_the_binder_by_default():
    """SPA-RL/STeCa bind before they check: "fly bedroom" answers Nothing happens. yet makes the bedroom the
    last object used, so "walk to light" then goes to the bedroom's light, not the bathroom's."""
    env, plain = _walk_to_light()
    sim = env.sim
    assert [(light, sim.class_name(sim.room_of(light))) for light in sim.nodes_by_class("light")] == [
        (13, "home_office"), (28, "bathroom"), (42, "dining_room"), (56, "bedroom")]
    assert plain == [("light is ON and PLUGGED_IN and CLEAN, hands_both is CLEAN. ", True, "[WALK] <light> (28)",
                      True)]
    env, steps = _walk_to_light(prefix=["fly bedroom"])
    assert steps == [(NOTHING_HAPPENS, False, "", True),
                     ("light is ON and PLUGGED_IN and CLEAN. ", True, "[WALK] <light> (56)", True)]
    assert env.binder.bindings == {"bed": 94, "bedroom": 44, "nightstand": 96, "novel": 1000, "light": 56}
    # the simulator refusing a bound line counts too: the name stays bound
    env, steps = _walk_to_light(prefix=["grab light"])
    assert steps[0] == (NOTHING_HAPPENS, False, "[GRAB] <light> (28)", True) and env.binder.bindings["light"] == 28
    assert steps[1][2:] == ("[WALK] <light> (28)", False)  # already bound, already the last object


def test_keep_bindings_on_reject_leaves_the_binder_alone():
    _, plain = _walk_to_light()
    for rejected in ("fly bedroom", "grab light", "", "fly"):
        env, steps = _walk_to_light(prefix=[rejected], keep_bindings_on_reject=True)
        assert steps[0][1] is False and steps[0][3] is False, rejected
        assert steps[1:] == plain, rejected
        assert env.binder.bindings == {"bed": 94, "bedroom": 44, "nightstand": 96, "novel": 1000, "light": 28}
    env, steps = _walk_to_light(prefix=["fly bedroom", "walk to light"], keep_bindings_on_reject=True)
    assert steps[1] == plain[0] and steps[2][2:] == ("[WALK] <light> (28)", False)
    assert env.keep_bindings_on_reject is True and VirtualHomeEnv().keep_bindings_on_reject is False


@pytest.mark.parametrize("strict", [False, True])
def test_kept_bindings_make_rejected_commands_leave_no_trace(strict):
    """With keep_bindings_on_reject, rejected commands slipped between an episode's steps change nothing
    after them: the same answers and (strict_parity's random bindings) the same RNG state as without."""
    def play(keep, junk):
        env = VirtualHomeEnv(split="train", strict_parity=strict, keep_bindings_on_reject=keep)
        pick, slip = np.random.default_rng(21), np.random.default_rng(22)
        trace, moved = [], 0
        for seed in range(6):
            _, info = env.reset(seed=seed)
            names = sorted({env.sim.class_name(i) for i in env.sim.node_ids()})
            rooms = sorted(env.sim.class_name(i) for i in env.sim.room_ids())
            for _ in range(25):
                if junk:
                    for action in (f"fly {names[slip.integers(len(names))]}",
                                   f"grab {rooms[slip.integers(len(rooms))]}"):
                        obs, reward, _, _, rejected = env.step(action)
                        assert (obs, reward, rejected["grounded"]) == (NOTHING_HAPPENS, 0.0, False), action
                        moved += rejected["bindings_changed"]
                        assert rejected["admissible_actions"] == info["admissible_actions"]
                actions = info["admissible_actions"]
                obs, _, terminated, _, info = env.step(actions[pick.integers(len(actions))])
                trace.append((obs, info["script_line"], info["bindings_changed"], dict(env.binder.bindings),
                              env.np_random.bit_generator.state))
                if terminated:
                    break
        return trace, moved

    clean, _ = play(keep=True, junk=False)
    kept, moved = play(keep=True, junk=True)
    assert kept == clean and moved == 0
    default, moved = play(keep=False, junk=True)
    assert default != clean and moved > 100


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_vector_envs(mode):
    fns = [lambda: VirtualHomeEnv(split="test_seen"), lambda: VirtualHomeEnv(split="test_unseen")]
    envs = gym.vector.SyncVectorEnv(fns) if mode == "sync" else gym.vector.AsyncVectorEnv(fns)
    try:
        obs, infos = envs.reset(seed=[1, 2], options={"task_index": 0})
        assert list(obs) == [VirtualHomeEnv(split="test_seen").reset(options={"task_index": 0})[0],
                             VirtualHomeEnv(split="test_unseen").reset(options={"task_index": 0})[0]]
        obs, _, _, _, infos = envs.step(["walk to bedroom", "jump"])
        assert list(infos["grounded"]) == [True, False] and list(obs)[1] == NOTHING_HAPPENS
    finally:
        envs.close()


def test_render_modes():
    env = VirtualHomeEnv(split="test_seen", render_mode="ansi")
    obs, _ = env.reset(options={"task_index": 1})
    assert env.render() == obs
    with pytest.raises(ValueError, match="render_mode"):
        VirtualHomeEnv(render_mode="rgb_array")


def _detour(env, rng, count):
    """Random admissible actions, except wearing clothes: VirtualHome never lets a worn piece be
    grabbed again (it stays 'already grabbed'), a dead end no expert can undo."""
    for _ in range(count):
        actions = [a for a in env.unwrapped.admissible_actions() if not a.startswith("Put on")]
        env.step(actions[rng.integers(len(actions))])
        if env.won:
            return


@pytest.mark.parametrize("split", ["test_seen", "test_unseen"])
def test_expert_wins_after_random_detours(split):
    env = VirtualHomeEnv(split=split)
    rng = np.random.default_rng(7)
    for index in range(0, 247, 9):
        env.reset(options={"task_index": index})
        _detour(env, rng, int(rng.integers(1, 15)))
        for _ in range(40):
            if env.won:
                break
            action = env.expert_action()
            assert action is not None, (index, env.current.activity)
            assert env.step(action)[4]["grounded"], (index, action)
        assert env.won, (index, env.current.activity)


def test_expert_wins_in_strict_parity_mode_after_detours():
    env = VirtualHomeEnv(split="train", strict_parity=True)
    rng = np.random.default_rng(3)
    for index in range(0, 2000, 97):
        env.reset(seed=index, options={"task_index": index})
        _detour(env, rng, 6)
        for _ in range(40):
            if env.won:
                break
            assert env.step(env.expert_action())[4]["grounded"]
        assert env.won, index


def test_own_graph_and_program(virtualhome_fixtures):
    with gzip.open(virtualhome_fixtures / "454_2.json.gz") as file:
        record = json.load(file)
    program = {"title": record["title"], "description": record["description"], "script": record["script"]}
    env = VirtualHomeEnv(graph=record["initial_graph"], program=program)
    obs, info = env.reset()
    assert obs == ("The task is Watch TV(Walk to the living room. Sit on the sofa. Grab the remote and turn on the "
                   "television.).")
    assert env.task_ids() == ["custom-0000"] and info["goal_progress"] < 1.0
    commands = []
    while not env.won and len(commands) < 20:
        commands.append(env.expert_action())
        assert env.step(commands[-1])[4]["grounded"]
    assert commands[:3] == ["Walk to home office", "Walk to couch", "Sit on couch"] and env.won
    with pytest.raises(ValueError, match="fails on the graph"):
        VirtualHomeEnv(graph=record["initial_graph"], program=dict(program, script=["[GRAB] <couch> (352)"]))


# ---------------------------------------------------------------------- remembered answers
@pytest.mark.parametrize("strict", [False, True])
def test_remembered_answers_equal_fresh_ones(strict):
    """The env keeps visible_ids and the walk commands while they cannot change; a clone starts with
    nothing remembered, so it answers from scratch on the very same state."""
    env = VirtualHomeEnv(split="train", strict_parity=strict)
    rng = np.random.default_rng(11)
    _, info = env.reset(seed=11)
    for _ in range(400):
        actions = info["admissible_actions"]
        action = actions[rng.integers(len(actions))] if rng.random() < 0.9 else "put cup in cup"
        obs, _, terminated, _, info = env.step(action)
        fresh = env.sim.clone()
        assert env.sim.visible_ids() == fresh.visible_ids()
        assert info["admissible_actions"] == admissible_commands(fresh)
        if info["grounded"]:
            assert obs == render_observation(fresh, strict=strict)
        if terminated or rng.random() < 1 / 40:
            _, info = env.reset()


def _node(node_id, class_name, category="Props", properties=(), states=()):
    return {"id": node_id, "class_name": class_name, "category": category, "properties": list(properties),
            "states": list(states)}


def _inside(a, b):
    return {"from_id": a, "relation_type": "INSIDE", "to_id": b}


def test_visibility_changed_reports_net_changes():
    graph = Graph.from_dict({"nodes": [_node(1, "kitchen", "Rooms"), _node(2, "character", "Characters"),
                                       _node(3, "box"), _node(4, "cup")],
                             "edges": [_inside(2, 1), _inside(3, 1), _inside(4, 1)]})
    graph.mark_visibility()
    graph.add_edge(4, "CLOSE", 3)
    graph.set_states(3, ("CLEAN",))
    assert not graph.visibility_changed()  # neither INSIDE/HOLDS edges nor OPEN states
    graph.remove_edge(4, "INSIDE", 1)
    assert graph.visibility_changed()
    graph.add_edge(4, "INSIDE", 1)
    assert not graph.visibility_changed()  # undone
    for hand in ("HOLDS_RH", "HOLDS_LH"):
        graph.add_edge(2, hand, 4)
        assert graph.visibility_changed()
        graph.remove_edge(2, hand, 4)
        assert not graph.visibility_changed()
    graph.set_states(3, ("OPEN",))
    assert graph.visibility_changed()
    graph.set_states(3, ("CLEAN",))
    assert not graph.visibility_changed()
    graph.add_edge(4, "INSIDE", 3)  # not as loaded: the order of 4's INSIDE edges replays steps from now on
    graph.remove_edge(4, "INSIDE", 3)
    assert graph.visibility_changed()
    graph.mark_visibility()
    assert not graph.visibility_changed()


def test_visibility_follows_open_and_held():
    sim = Simulator({"nodes": [_node(1, "kitchen", "Rooms"), _node(2, "character", "Characters"),
                               _node(3, "box", properties=["CAN_OPEN", "CONTAINERS", "RECIPIENT"], states=["CLOSED"]),
                               _node(4, "cup", properties=["GRABBABLE", "POURABLE"]),
                               _node(5, "plate", properties=["GRABBABLE"])],
                     "edges": [_inside(2, 1), _inside(3, 1), _inside(4, 1), _inside(5, 3)]})
    seen = []
    for line in ("[WALK] <box> (3)", "[OPEN] <box> (3)", "[CLOSE] <box> (3)", "[WALK] <cup> (4)",
                 "[GRAB] <cup> (4)", "[WALK] <box> (3)", "[POUR] <cup> (4) <box> (3)", "[DROP] <cup> (4)"):
        assert sim.execute(line) == (True, "")
        visible = sim.visible_ids()
        seen.append((4 in visible, 5 in visible))
        assert visible == sim.clone().visible_ids()
    # the cup poured into the closed box is judged by the box (listed last), yet seen while held
    assert seen == [(True, False), (True, True), (True, False), (True, False), (True, False), (True, False),
                    (True, False), (False, False)]


def test_visibility_replays_the_set_order_at_every_step():
    """A cup put INSIDE itself is INSIDE the kitchen and itself; VirtualHome judges it by the one its set
    lists last, and that order flips at every new state, even when nothing else changes."""
    sim = Simulator({"nodes": [_node(3, "kitchen", "Rooms"), _node(2, "character", "Characters"), _node(35, "box"),
                               _node(19, "cup", properties=["GRABBABLE"])],
                     "edges": [_inside(i, 3) for i in (2, 19, 35)]})
    seen = []
    for line in ("[WALK] <cup> (19)", "[GRAB] <cup> (19)", "[PUTIN] <cup> (19) <cup> (19)", "[WALK] <box> (35)",
                 "[WALK] <cup> (19)", "[WALK] <box> (35)"):
        assert sim.execute(line) == (True, "")
        seen.append(19 in sim.visible_ids())
        assert sim.visible_ids() == sim.clone().visible_ids()
    assert seen == [True, True, False, True, False, True]
