"""SPA-ALFWorld-v0 as a Gymnasium env: the contract, determinism, vectorisation, bad input, errors."""

from __future__ import annotations

import json
import random
from pathlib import Path

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import spa_gym  # noqa: F401
from spa_gym.envs.alfworld import ALFWorldEnv, Episode, TaskSuite, expert_plan


def make(**kwargs) -> gym.Env:
    return gym.make("SPA-ALFWorld-v0", **kwargs)


def test_check_env_passes() -> None:
    check_env(make().unwrapped, skip_render_check=True)
    check_env(make(grammar="2.1.3").unwrapped, skip_render_check=True)


def test_default_step_limit_is_spa_rl_40_and_overridable() -> None:
    assert make().spec.max_episode_steps == 40
    env = make(max_episode_steps=3)
    env.reset(seed=0)
    results = [env.step("look") for _ in range(3)]
    assert [r[3] for r in results] == [False, False, True]


def test_info_contract_on_reset_and_step() -> None:
    env = make(split="valid_seen")
    obs, info = env.reset(seed=3)
    assert set(info) >= {"task", "task_id", "admissible_actions", "won", "task_type", "grammar"}
    assert obs.endswith(f"Your task is to: {info['task']}.")
    assert info["admissible_actions"] == sorted(info["admissible_actions"])
    assert info["won"] is False
    obs, reward, terminated, truncated, info = env.step(info["admissible_actions"][0])
    assert info["grounded"] is True
    obs, reward, terminated, truncated, info = env.step("dance")
    assert (obs, reward, terminated, info["grounded"]) == ("Nothing happens.", 0.0, False, False)


def test_same_seed_gives_byte_identical_episodes() -> None:
    def episode(seed: int) -> list:
        env = make(split="train")
        obs, info = env.reset(seed=seed)
        rng = random.Random(seed)
        out = [obs, info]
        for _ in range(30):
            out.append(env.step(rng.choice(info["admissible_actions"] + ["garbage"])))
            info = out[-1][-1]
        return out

    assert json.dumps(episode(11)) == json.dumps(episode(11))
    assert json.dumps(episode(11)) != json.dumps(episode(12))


def test_reset_options_select_tasks() -> None:
    env = make(split="valid_unseen")
    _, info = env.reset(options={"task_id": "valid_unseen-0005"})
    assert info["task_id"] == "valid_unseen-0005"
    _, info2 = env.reset(options={"task_index": 5})
    assert info2["task_id"] == "valid_unseen-0005" and info2["task"] == info["task"]
    with pytest.raises(ValueError, match="unknown task id"):
        env.reset(options={"task_id": "train-0005"})
    with pytest.raises(IndexError):
        env.reset(options={"task_index": 134})
    with pytest.raises(ValueError, match="unknown reset options"):
        env.reset(options={"taskid": 1})


def test_splits_sizes_and_type_mix() -> None:
    sizes = {split: len(TaskSuite(split)) for split in ("train", "valid_seen", "valid_unseen")}
    assert sizes == {"train": 3553, "valid_seen": 140, "valid_unseen": 134}
    suite = TaskSuite("valid_unseen")
    types = [suite.task_type(i) for i in range(len(suite))]
    assert {t: types.count(t) for t in set(types)} == {
        "pick_and_place_simple": 24,
        "look_at_obj_in_light": 18,
        "pick_clean_then_place_in_recep": 31,
        "pick_heat_then_place_in_recep": 23,
        "pick_cool_then_place_in_recep": 21,
        "pick_two_obj_and_place": 17,
    }


def test_grammar_2_1_3_uses_move_and_help() -> None:
    env = make(split="valid_seen", grammar="2.1.3")
    _, info = env.reset(options={"task_index": 0})
    assert "help" in info["admissible_actions"]
    for _ in range(40):
        command = env.unwrapped.expert_action()
        if command is None:
            break
        assert not command.startswith("put ")
        *_, info = env.step(command)
    assert info["won"]


def test_non_str_action_raises_type_error() -> None:
    env = make()
    env.reset(seed=0)
    for bad in (None, 3, b"look", ["look"]):
        with pytest.raises(TypeError, match="actions as str"):
            env.step(bad)


@pytest.mark.slow
def test_random_garbage_never_breaks_the_world() -> None:
    env = make(split="train", max_episode_steps=10_000)
    rng = random.Random(0)
    garbage = ["", " ", "\t\n", "ünïcødé ☃ go to", "go to", "x" * 1_000_000, "take", "look\x00", "🙂" * 100,
               "put in/on"]
    _, info = env.reset(seed=0)
    base = env.unwrapped
    for step in range(100_000):
        if step % 500 == 0:
            _, info = env.reset(seed=step)
        if rng.random() < 0.5:
            action = rng.choice(info["admissible_actions"])
        else:
            action = rng.choice(garbage)
        before = set(info["admissible_actions"])
        obs, reward, terminated, truncated, info = env.step(action)
        assert info["grounded"] == (action.strip() in before)
        if not info["grounded"]:
            assert obs == "Nothing happens."
        episode = base.episode
        # consistency: at most one object held, held object in no receptacle it was taken from here
        if episode.held >= 0:
            assert episode.held not in episode.at_location[episode.agent_location]
        for r, contents in enumerate(episode.contents):
            for o in contents:
                assert r in episode.containers[o]
        if terminated:
            _, info = env.reset(seed=step)


def test_vector_envs_sync_and_async() -> None:
    for mode in ("sync", "async"):
        envs = gym.make_vec("SPA-ALFWorld-v0", num_envs=2, vectorization_mode=mode, split="valid_seen")
        obs, infos = envs.reset(seed=[1, 2])
        assert len(obs) == 2 and all(o.startswith("-= Welcome") for o in obs)
        obs, rewards, terminated, truncated, infos = envs.step(["look", "inventory"])
        assert list(obs) == [
            "You are in the middle of a room. Looking quickly around you, you see nothing.",
            "You are not carrying anything.",
        ]
        envs.close()


@pytest.mark.parametrize("split", ["train", "valid_seen", "valid_unseen"])
def test_expert_wins_sampled_tasks(split: str) -> None:
    suite_size = len(TaskSuite(split))
    env = make(split=split)
    rng = random.Random(split)
    for index in rng.sample(range(suite_size), 25):
        _, info = env.reset(options={"task_index": index})
        assert not info["won"]
        for _ in range(40):
            command = env.unwrapped.expert_action()
            assert command in info["admissible_actions"]
            *_, terminated, truncated, info = env.step(command)
            if terminated:
                break
        assert info["won"], f"expert failed {info['task_id']}: {info['task']}"


#: Random steps (random.Random(5)) on train tasks 0-19, then the expert steps that win from there (recorded).
WANDER_STEPS = [19, 13, 24, 0, 19, 11, 24, 11, 2, 23, 4, 13, 9, 10, 11, 15, 16, 15, 20, 6]
RECOVERY_STEPS = [5, 8, 6, 8, 3, 5, 7, 7, 9, 8, 7, 6, 8, 4, 5, 11, 9, 10, 6, 8]


def test_expert_recovers_after_wandering() -> None:
    env = make(split="train", max_episode_steps=200)
    rng = random.Random(5)
    wandered, recovered = [], []
    for index in range(20):
        _, info = env.reset(options={"task_index": index})
        wandered.append(rng.randrange(25))
        for _ in range(wandered[-1]):
            *_, terminated, _, info = env.step(rng.choice(info["admissible_actions"]))
            assert not terminated  # the random walk never wins these
        plan = expert_plan(env.unwrapped.episode)  # simulated on a copy of the game
        commands = []
        for _ in range(40):  # bounded: a stuck or looping expert fails here instead of hanging
            command = env.unwrapped.expert_action()
            assert command is not None
            commands.append(command)
            _, reward, terminated, truncated, info = env.step(command)
            if terminated or truncated:
                break
        assert commands == plan
        assert (reward, terminated, truncated, info["won"]) == (1.0, True, False, True)
        assert env.unwrapped.expert_action() is None
        recovered.append(len(commands))
    assert wandered == WANDER_STEPS
    assert recovered == RECOVERY_STEPS


def test_missing_and_malformed_game_files(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nowhere"):
        make(game_files=[tmp_path / "nowhere"])
    bad = tmp_path / "bad" / "game.tw-pddl"
    bad.parent.mkdir()
    bad.write_text("{not json")
    env = make(game_files=[bad])
    with pytest.raises(ValueError, match=r"bad/game.tw-pddl: not a valid game.tw-pddl"):
        env.reset()
    bad.write_text(json.dumps({"pddl_problem": "(define (problem p) (:objects a - agent)", "grammar": ""}))
    with pytest.raises(ValueError, match=r"game.tw-pddl: unbalanced"):
        ALFWorldEnv(game_files=[bad]).reset()
    with pytest.raises(ValueError, match="no playable ALFWorld games"):
        make(data_dir=tmp_path)


def test_data_dir_finds_fixture_games(alfworld_fixtures: Path) -> None:
    env = make(data_dir=alfworld_fixtures)
    assert env.unwrapped.num_tasks() == 10
    seen = set()
    for index in range(10):
        obs, info = env.reset(options={"task_index": index})
        seen.add(info["grammar"])
        assert info["gamefile"].endswith("game.tw-pddl")
    assert seen == {"2.1.1", "2.1.3"}


def test_walkthroughs_of_fixture_games_win(alfworld_fixtures: Path) -> None:
    for path in sorted(alfworld_fixtures.glob("*/*/game.tw-pddl")):
        env = make(game_files=[path], max_episode_steps=100)
        _, info = env.reset()
        for command in json.loads(path.read_text())["walkthrough"]:
            *_, info = env.step(command)
        assert info["won"], path


def test_valid_unseen_uses_only_layouts_never_in_train_or_valid_seen() -> None:
    from spa_gym.envs.alfworld.scenes import UNSEEN_LAYOUT_IDS

    unseen = {TaskSuite("valid_unseen").spec(i).layout_id for i in range(134)}
    seen = {TaskSuite(split).spec(i).layout_id for split, n in (("train", 3553), ("valid_seen", 140)) for i in range(n)}
    assert unseen <= UNSEEN_LAYOUT_IDS and len(unseen) == 4
    assert not seen & UNSEEN_LAYOUT_IDS
    assert len(seen) == 116


def test_suite_tasks_are_stable_and_match_their_spec() -> None:
    suite = TaskSuite("valid_seen")
    spec = suite.spec(9)
    game = suite.game(9)
    assert spec.task_id == "valid_seen-0009" and game.goal == spec.goal
    assert TaskSuite("valid_seen", grammar="2.1.3").game(9).receptacle_names == game.receptacle_names


def test_explorer_expert_wins_by_searching_what_it_has_not_seen() -> None:
    env = make(split="valid_unseen", expert="explorer", max_episode_steps=80)
    full_lengths, explorer_lengths = [], []
    for index in range(0, 134, 7):
        _, info = env.reset(options={"task_index": index})
        steps = 0
        while (command := env.unwrapped.expert_action()) is not None:
            assert command in info["admissible_actions"]
            *_, info = env.step(command)
            steps += 1
        assert info["won"]
        explorer_lengths.append(steps)
        full_lengths.append(len(expert_plan(Episode(TaskSuite("valid_unseen").game(index)))))
    assert sum(explorer_lengths) > sum(full_lengths)  # it has to search
    assert all(e >= f for e, f in zip(explorer_lengths, full_lengths))
    with pytest.raises(ValueError, match="expert must be"):
        make(expert="oracle")
