"""Simple policies (expert, random, noisy expert), collect_trajectories and ``spa-gym collect``."""

from __future__ import annotations

import gymnasium as gym
import pytest

import spa_gym  # noqa: F401
from spa_gym.cli import main
from spa_gym.data import read_trajectories
from spa_gym.data.collect import collect_expert_trajectories, collect_trajectories, expert_episode
from spa_gym.data.policies import (
    ExpertPolicy,
    NoisyExpertPolicy,
    RandomPolicy,
    invalid_commands,
    make_policy,
)
from spa_gym.envs.alfworld.expert import expert_plan


def make_env(**kwargs) -> gym.Env:
    return gym.make("SPA-ALFWorld-v0", split="valid_seen", **kwargs)


def test_expert_policy_wins_every_episode(tmp_path) -> None:
    env = make_env()
    path = tmp_path / "expert.jsonl"
    walks = collect_trajectories(env, make_policy("expert", env), 5, path=path, seed=0)
    assert len(walks) == 5
    assert all(w.won and w.final_reward == 1.0 for w in walks)
    assert all(step.grounded for w in walks for step in w.steps)
    assert read_trajectories(path) == walks
    # tasks come from the env's RNG, seeded seed, seed + 1, ...
    expected = []
    for seed in range(5):
        expected.append(env.reset(seed=seed)[1]["task_id"])
    assert [w.task_id for w in walks] == expected


def replay(reset: dict, plan: list[str]) -> tuple[str, list[tuple[str, str, float, bool]], bool]:
    """The initial observation and (action, observation, reward, grounded) of ``plan`` played by hand."""
    env = make_env()
    obs, _ = env.reset(**reset)
    steps = []
    for action in plan:
        seen, reward, terminated, _, info = env.step(action)
        steps.append((action, seen, reward, info["grounded"]))
    return obs, steps, terminated and info["won"]


#: The expert's shortest plans, recorded: task 3 of valid_seen, and the task reset(seed=0) draws.
PLAN_TASK_3 = ["go to countertop 1", "take tissuebox 2 from countertop 1", "go to drawer 4", "open drawer 4",
               "put tissuebox 2 in/on drawer 4"]
PLAN_SEED_0 = ["go to sinkbasin 1", "take knife 1 from sinkbasin 1", "clean knife 1 with sinkbasin 1",
               "go to drawer 12", "open drawer 12", "put knife 1 in/on drawer 12"]


@pytest.mark.parametrize(("reset", "task_id", "task", "plan"), [
    ({"options": {"task_index": 3}}, "valid_seen-0003", "put a tissuebox in drawer", PLAN_TASK_3),
    ({"seed": 0}, "valid_seen-0119", "clean some knife and put it in drawer", PLAN_SEED_0),
], ids=["task-index", "seed"])
def test_expert_episodes_follow_the_envs_plan(reset, task_id, task, plan) -> None:
    env = make_env()
    env.reset(**reset)
    assert expert_plan(env.unwrapped.episode) == plan  # the plan simulated on a copy of the game
    if "options" in reset:
        [walk] = collect_expert_trajectories(env, [reset["options"]["task_index"]])
        assert expert_episode(env, options=reset["options"]) == walk
    else:
        walk = expert_episode(env, seed=reset["seed"])
        assert collect_trajectories(env, ExpertPolicy(env), 1, seed=reset["seed"])[0] == walk
    initial, steps, won = replay(reset, plan)
    assert won
    assert (walk.task_id, walk.task, walk.initial_observation) == (task_id, task, initial)
    assert [(s.action, s.observation, s.reward, s.grounded) for s in walk.steps] == steps
    assert [s.reward for s in walk.steps] == [0.0] * (len(plan) - 1) + [1.0]
    assert walk.won and walk.final_reward == 1.0


def test_expert_needs_an_env_with_an_expert() -> None:
    class NoExpert(gym.Env):
        pass

    with pytest.raises(TypeError, match="has no expert_action"):
        ExpertPolicy(NoExpert())
    with pytest.raises(TypeError, match="has no expert_action"):
        make_policy("noisy-expert", NoExpert())


def test_random_policy_is_reproducible_and_seeded() -> None:
    env = make_env(max_episode_steps=10)
    first = collect_trajectories(env, RandomPolicy(seed=0), 3, seed=0)
    again = collect_trajectories(env, RandomPolicy(seed=0), 3, seed=0)
    other = collect_trajectories(env, RandomPolicy(seed=1), 3, seed=0)
    assert first == again
    assert [w.task_id for w in other] == [w.task_id for w in first]
    assert [[s.action for s in w.steps] for w in other] != [[s.action for s in w.steps] for w in first]
    assert all(len(w.steps) == 10 for w in first)
    assert all(step.grounded for w in first for step in w.steps)  # it only picks admissible actions


def test_noisy_expert_epsilon_zero_is_the_expert() -> None:
    env = make_env()
    assert collect_trajectories(env, NoisyExpertPolicy(env, epsilon=0.0, seed=7), 4, seed=0) == \
        collect_trajectories(env, ExpertPolicy(env), 4, seed=0)


def test_noisy_expert_all_invalid() -> None:
    env = make_env(max_episode_steps=12)
    walks = collect_trajectories(env, NoisyExpertPolicy(env, epsilon=1.0, seed=0, invalid_fraction=1.0), 3, seed=0)
    steps = [step for w in walks for step in w.steps]
    assert len(steps) == 36
    assert all(not step.grounded and step.observation == "Nothing happens." for step in steps)
    assert not any(w.won for w in walks)
    assert len({step.action for step in steps}) > 3  # several kinds of invalid command


def test_noisy_expert_mixes_won_and_lost_and_is_deterministic() -> None:
    env = make_env(max_episode_steps=15)
    walks = collect_trajectories(env, make_policy("noisy-expert", env, epsilon=0.3, seed=0), 30, seed=0)
    won = [w.won for w in walks]
    assert True in won and False in won
    grounded = [step.grounded for w in walks for step in w.steps]
    assert True in grounded and False in grounded
    assert collect_trajectories(env, make_policy("noisy-expert", env, epsilon=0.3, seed=0), 30, seed=0) == walks


def test_invalid_commands_are_never_admissible() -> None:
    env = make_env()
    states = 0
    for seed in range(5):
        _, info = env.reset(seed=seed)
        terminated = False
        while not terminated:
            admissible = info["admissible_actions"]
            invalid = invalid_commands(admissible)
            assert invalid and not {command.strip() for command in invalid} & set(admissible)
            states += 1
            _, _, terminated, _, info = env.step(env.unwrapped.expert_action())
    assert states > 20
    assert invalid_commands(["go to cabinet 1", "examine desk 1", "look"]) == [
        "go to acbinet 1", "xeamine desk 1", "olok", "go to cabinet 2", "examine desk 2", "go to desk 1",
        "fly to the moon", "",
    ]
    assert invalid_commands(["fly to the moon", ""]) == ["lfy to the moon"]
    assert invalid_commands(["", "fly to the moon", "lfy to the moon"]) == ["fly to the moon again"]


def test_make_policy_names_and_errors() -> None:
    env = make_env()
    assert isinstance(make_policy("expert", env), ExpertPolicy)
    assert isinstance(make_policy("random", env), RandomPolicy)
    noisy = make_policy("noisy-expert", env, epsilon=0.2, seed=3)
    assert isinstance(noisy, NoisyExpertPolicy) and (noisy.epsilon, noisy.seed) == (0.2, 3)
    with pytest.raises(ValueError, match="valid names: expert, random, noisy-expert"):
        make_policy("greedy", env)
    with pytest.raises(ValueError, match="LLM-model policies come with the agents"):
        make_policy("checkpoints/qwen-sft", env)
    with pytest.raises(ValueError, match="epsilon must be in"):
        make_policy("noisy-expert", env, epsilon=1.5)


def test_cli_collect_writes_trajectories_and_summary(tmp_path, capsys) -> None:
    out = tmp_path / "noisy.jsonl"
    code = main(["collect", "--env", "SPA-ALFWorld-v0", "--policy", "noisy-expert", "--episodes", "6",
                 "--out", str(out), "--epsilon", "0.3", "--seed", "2",
                 "--env-arg", "split=valid_seen", "--env-arg", "max_episode_steps=15"])
    assert code == 0
    walks = read_trajectories(out)
    assert len(walks) == 6
    env = make_env(max_episode_steps=15)
    assert walks == collect_trajectories(env, make_policy("noisy-expert", env, epsilon=0.3, seed=2), 6, seed=2)
    steps = sum(len(w.steps) for w in walks)
    grounded = sum(s.grounded for w in walks for s in w.steps)
    won = sum(w.won for w in walks)
    mean_reward = sum(w.final_reward for w in walks) / 6
    line = capsys.readouterr().out.strip()
    assert line == (
        f"wrote 6 noisy-expert episodes of SPA-ALFWorld-v0 to {out}: won {won}/6, "
        f"mean steps {steps / 6:.2f}, mean final reward {mean_reward:.3f}, "
        f"grounded {grounded / steps:.1%} of {steps} steps"
    )


@pytest.mark.parametrize("policy, message", [
    ("greedy", "unknown policy 'greedy'"),
    ("./models/qwen", "LLM-model policies come with the agents"),
    ("Qwen/Qwen2.5-7B-Instruct", "LLM-model policies come with the agents"),
])
def test_cli_collect_bad_policy_exits_2(tmp_path, capsys, policy, message) -> None:
    out = tmp_path / "x.jsonl"
    code = main(["collect", "--env", "SPA-ALFWorld-v0", "--policy", policy, "--episodes", "2", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 2
    assert message in captured.err and captured.out == ""
    assert not out.exists()


def test_rollouts_per_task_repeat_each_drawn_task() -> None:
    import gymnasium as gym

    from spa_gym.data.collect import collect_trajectories
    from spa_gym.data.policies import make_policy

    env = gym.make("SPA-ALFWorld-v0", split="valid_seen", max_episode_steps=5)
    walks = collect_trajectories(env, make_policy("random", env, seed=0), episodes=7, seed=3, rollouts_per_task=3)
    ids = [w.task_id for w in walks]
    assert ids[0] == ids[1] == ids[2] and ids[3] == ids[4] == ids[5] and ids[2] != ids[3]
    assert [w.steps for w in walks[:3]] != [walks[0].steps] * 3  # different rollouts of one task
