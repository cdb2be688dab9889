"""Replay: recordings of spa-gym's own experts match in full, a tampered one diverges at the right step,
and recordings in the exchange formats replay on real ALFWorld games and WebShop files through the loaders."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import gymnasium as gym
import pytest

import spa_gym  # noqa: F401  (registers the env ids)
from spa_gym.data import Trajectory, collect_expert_trajectories, collect_trajectories, make_policy
from spa_gym.data.collect import expert_episode
from spa_gym.data.formats import FORMATS, load_trajectories, write_trajectories
from spa_gym.data.formats.webshop_il import goal_key
from spa_gym.data.replay import FIELDS, compare_observations, make_replay_env, replay, replay_all
from spa_gym.envs.webshop.catalog import RAW_FILES, generate_raw

ENVS = (("SPA-ALFWorld-v0", "valid_seen"), ("SPA-WebShop-v0", "test"), ("SPA-VirtualHome-v0", "test_seen"))


@pytest.fixture(scope="module")
def walks() -> list[Trajectory]:
    """Expert and noisy-expert episodes (invalid actions included) of every env."""
    found = []
    for env_id, split in ENVS:
        env = gym.make(env_id, split=split)
        found += collect_expert_trajectories(env, range(3))
        found += collect_trajectories(env, make_policy("noisy-expert", env, epsilon=0.5), episodes=2, seed=3)
    return found


def test_own_recordings_match_in_full(walks: list[Trajectory]) -> None:
    for walk in walks:
        report = replay(walk, fields=FIELDS)
        assert report.ok, report.summary()
        assert (report.exact, report.loose, report.unrecorded) == (len(walk.steps) + 1, 0, 0)
        assert report.replayed == walk
        assert report.summary().endswith("; matches")


@pytest.mark.parametrize("env_id,split", ENVS)
def test_a_tampered_observation_diverges_at_its_step(env_id: str, split: str) -> None:
    walk = expert_episode(gym.make(env_id, split=split), options={"task_index": 1})
    assert len(walk.steps) >= 2
    tampered = copy.deepcopy(walk)
    tampered.steps[1].observation += " A unicorn is here."
    report = replay(tampered, fields=FIELDS)
    assert not report.ok and len(report.divergences) == 1
    divergence = report.first_divergence
    assert (divergence.step, divergence.field, divergence.action) == (2, "observation", walk.steps[1].action)
    assert (divergence.expected, divergence.got) == (tampered.steps[1].observation, walk.steps[1].observation)
    assert report.exact == len(walk.steps)  # every other observation still matches
    assert "first divergence at step 2 after" in report.summary()
    tampered = copy.deepcopy(walk)
    tampered.initial_observation = "Somewhere else."
    assert replay(tampered).first_divergence.step == 0


def test_rewards_flags_and_outcome_are_checked_when_asked(walks: list[Trajectory]) -> None:
    walk = copy.deepcopy(walks[0])
    walk.steps[0].grounded = False
    walk.steps[-1].reward = 0.5
    walk.won = False
    assert replay(walk).ok  # observations only, by default
    report = replay(walk, fields=FIELDS)
    assert [(d.step, d.field) for d in report.divergences] == [
        (1, "grounded"), (len(walk.steps), "reward"), (len(walk.steps), "won")]
    with pytest.raises(ValueError, match="unknown replay fields"):
        replay(walk, fields=("observation", "colour"))


@pytest.mark.parametrize("name", ["eto", "agentgym", "spa-rl-explore", "spa-rl-estimator"])
def test_every_format_replays(tmp_path: Path, walks: list[Trajectory], name: str) -> None:
    write_trajectories(walks, tmp_path / "walks.json", name)
    loaded = load_trajectories(tmp_path / "walks.json")
    reports = replay_all(loaded, fields=FORMATS[name].recorded)
    assert all(report.ok for report in reports), [r.summary() for r in reports if not r.ok]
    assert [report.replayed.final_reward for report in reports] == [walk.final_reward for walk in walks]
    unrecorded = sum(report.unrecorded for report in reports)
    assert unrecorded == (sum(1 for walk in walks if walk.steps) if name == "spa-rl-estimator" else 0)


def test_no_task_no_replay() -> None:
    walk = Trajectory("SPA-ALFWorld-v0", "", "put a mug in sinkbasin", "You are in a room.")
    with pytest.raises(ValueError, match="no task id"):
        replay(walk)


def test_loose_matches() -> None:
    assert compare_observations("SPA-ALFWorld-v0", "a  b\n", "a b") == "loose"
    assert compare_observations("SPA-ALFWorld-v0", "a  b\n", "a b", loose=False) == "differs"
    search = "WebShop [SEP] Instruction: [SEP] i need a lamp, and price lower than 30.00 dollars [SEP] Search"
    assert compare_observations("SPA-WebShop-v0", search, search.replace("30.00", "40.00")) == "loose"
    assert compare_observations("SPA-WebShop-v0", search, search.replace("lamp", "mug")) == "differs"


# -- real ALFWorld games (recorded from the real engine) through the game-file loader -------------------

def _transcripts(root: Path, grammar: str) -> list[tuple[Path, dict]]:
    found = []
    for path in sorted(root.glob("*/*/transcripts.json")):
        for walk in json.loads(path.read_text()):
            if walk["grammar"] == grammar and walk["kind"] in ("expert", "mixed"):
                found.append((path.parent / "game.tw-pddl", walk))
    return found


def _alfworld_record(game_file: Path, walk: dict, strip_header: bool, strip_arrival: bool) -> dict:
    """A SPA-RL exploration record of a real-engine transcript, as ETO's harness would write it."""
    def text(observation: str) -> str:
        return re.sub(r"You arrive at loc \d+\. ", "", observation) if strip_arrival else observation

    first = walk["initial_observation"]
    if strip_header:
        first = first.split("\n\n", 1)[1]
    turns = [("user", "Interact with a household to solve a task."), ("assistant", "OK"), ("user", first)]
    for step in walk["steps"]:
        turns += [("assistant", f"Thought: next.\nAction: {step['action']}"),
                  ("user", "Observation: " + text(step["observation"]))]
    return {"id": 0, "iteration": 0, "agent_conversations": [{"role": r, "content": c} for r, c in turns],
            "agent_final_reward": float(walk["steps"][-1]["won"]), "game_file": str(game_file)}


@pytest.mark.parametrize("grammar", ["2.1.1", "2.1.3"])
def test_real_alfworld_games_replay(alfworld_fixtures: Path, tmp_path: Path, grammar: str) -> None:
    cases = _transcripts(alfworld_fixtures, grammar)
    assert cases
    path = tmp_path / "exploration.json"
    path.write_text(json.dumps([_alfworld_record(game, walk, False, False) for game, walk in cases]))
    for report, (game, walk) in zip(replay_all(load_trajectories(path), fields=("observation", "won")), cases):
        assert report.ok and report.exact == len(walk["steps"]) + 1, report.summary()
        assert report.task_id == str(game) and report.replayed.won == walk["steps"][-1]["won"]
    # AgentGym-style recordings (header and "You arrive at loc N." dropped) still match, loosely
    path.write_text(json.dumps([_alfworld_record(game, walk, True, True) for game, walk in cases]))
    reports = replay_all(load_trajectories(path))
    assert all(report.ok for report in reports) and sum(report.loose for report in reports) > 0
    # an engine that answers otherwise is caught
    records = json.loads(path.read_text())
    records[0]["agent_conversations"][6]["content"] = "Observation: Nothing happens."
    path.write_text(json.dumps(records))
    report = replay(load_trajectories(path)[0])
    assert (report.first_divergence.step, report.first_divergence.expected) == (2, "Nothing happens.")


# -- WebShop's real file formats through the catalog loader, with human demonstrations ------------------

@pytest.fixture(scope="module")
def webshop_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("webshop_data")
    items, annotations, human, _ = generate_raw(100, seed=3)
    for name, content in (("items_shuffle_1000.json", items), ("items_ins_v2_1000.json", annotations),
                          (RAW_FILES["human"], human)):  # fmt: skip
        (folder / name).write_text(json.dumps(content), encoding="utf-8")
    return folder


def _demonstration(env: gym.Env, index: int) -> dict:
    """One line of il_trajs_finalized_images.jsonl for the expert's episode on goal ``index``."""
    state, info = env.reset(options={"task_index": index})
    record: dict = {"states": [state], "actions": [], "actions_translate": [], "available_actions": [],
                    "action_idxs": []}
    while not info["won"]:
        action = env.unwrapped.expert_action()
        available = info["available_actions"]
        candidates = ([action] if available["has_search_bar"]
                      else [f"click[{c}]" for c in available["clickables"] if c != "search"])
        record["actions"].append(action)
        record["actions_translate"].append(action)
        record["available_actions"].append(candidates)
        record["action_idxs"].append(-1 if action.startswith("search[") else candidates.index(action.lower()))
        state, _, _, _, info = env.step(action)
        if not info["won"]:
            record["states"].append(state)
    return record


def test_webshop_demonstrations_replay_on_real_files(webshop_files: Path, tmp_path: Path) -> None:
    env = gym.make("SPA-WebShop-v0", split="all", data_dir=webshop_files, observation_mode="text_rich")
    suite = env.unwrapped.suite
    goals = [goal_key(suite.goal(i)["instruction_text"]) for i in range(len(suite))]
    indices = [i for i in range(0, len(suite), 15) if goals.count(goals[i]) == 1]
    assert len(indices) >= 3
    path = tmp_path / "il_trajs_finalized_images.jsonl"
    path.write_text("".join(json.dumps(_demonstration(env, i)) + "\n" for i in indices))
    for human_goals in (goals, None):  # with human_goals.json the task id, without it the instruction
        demos = load_trajectories(path, human_goals=human_goals)
        assert [d.task_id for d in demos] == ([f"all-{i:04d}" for i in indices] if human_goals else [""] * len(indices))
        reports = replay_all(demos, env_kwargs={"data_dir": webshop_files})
        assert all(report.ok and report.unrecorded == 1 for report in reports), [r.summary() for r in reports]
        assert all(report.replayed.won and report.replayed.final_reward == 1.0 for report in reports)
    assert make_replay_env(demos[0], data_dir=webshop_files).observation_mode == "text_rich"
