"""Credit methods on hand-worked cases: group normalisation, GRPO, RLOO, GiGPO, Monte Carlo PRM,
and the PPO trainer's critic-free path."""

from __future__ import annotations

import math
import statistics

import gymnasium as gym
import pytest
import torch

import spa_gym  # noqa: F401
from spa_gym.agents import ppo as ppo_module
from spa_gym.agents.policy import LLMPolicy
from spa_gym.agents.ppo import PPOConfig, PPOTrainer, sample_task_indices
from spa_gym.credit import (
    METHODS,
    GiGPOCredit,
    GRPOCredit,
    MonteCarloValues,
    RLOOCredit,
    get_credit_method,
    group_normalise,
    mc_prm_credits,
)
from spa_gym.credit.gigpo import discounted_returns
from spa_gym.data.trajectories import Trajectory
from spa_gym.training import tiny_model_path

EPS = 1e-6


def rows(expected: list[list[float]]) -> list:
    """Nested lists compared row by row with pytest.approx."""
    return [pytest.approx(row) for row in expected]


def walk(task: str, rewards: list[float], keys: list[str] | None = None, texts: list[str] | None = None,
         start: str = "start") -> Trajectory:
    t = Trajectory("env", task, "", start)
    for i, reward in enumerate(rewards):
        t.add_step(f"a{i}", texts[i] if texts else f"o{i}", reward, True, state_key=keys[i] if keys else None)
    return t


def test_group_normalise_by_hand() -> None:
    # group a: (1, 0, 0, 0): mean 0.25, sample std 0.5; group b: (2, 4): mean 3, std sqrt(2); c alone
    got = group_normalise([1.0, 0.0, 2.0, 0.0, 4.0, 0.0, 7.0], ["a", "a", "b", "a", "b", "a", "c"])
    assert got == pytest.approx([0.75 / (0.5 + EPS), -0.25 / (0.5 + EPS), -1 / (math.sqrt(2) + EPS),
                                 -0.25 / (0.5 + EPS), 1 / (math.sqrt(2) + EPS), -0.25 / (0.5 + EPS), 7.0], abs=1e-12)
    assert group_normalise([1.0, 0.0, 2.0, 4.0], ["a", "a", "b", "b"], scale="none") == [0.5, -0.5, -1.0, 1.0]
    assert group_normalise([1.0, 1.0], ["a", "a"]) == [0.0, 0.0]  # no spread: nothing to learn
    with pytest.raises(ValueError, match="scale must be one of"):
        group_normalise([1.0], ["a"], scale="max")
    with pytest.raises(ValueError, match="2 values but 1 group labels"):
        group_normalise([1.0, 2.0], ["a"])


def test_grpo_and_rloo_by_hand() -> None:
    walks = [walk("t1", [0.0, 1.0]), walk("t1", [0.0]), walk("t1", [0.0, 0.0, 0.0]), walk("t1", [0.0, 0.0]),
             walk("t2", [0.5]), walk("t2", [0.0, 0.0])]
    std1 = 0.5  # outcomes (1, 0, 0, 0)
    assert GRPOCredit()(walks) == rows([
        [0.75 / (std1 + EPS)] * 2, [-0.25 / (std1 + EPS)], [-0.25 / (std1 + EPS)] * 3, [-0.25 / (std1 + EPS)] * 2,
        [0.25 / (statistics.stdev([0.5, 0.0]) + EPS)], [-0.25 / (statistics.stdev([0.5, 0.0]) + EPS)] * 2])
    assert GRPOCredit(scale="none")(walks) == [[0.75] * 2, [-0.25], [-0.25] * 3, [-0.25] * 2, [0.25], [-0.25] * 2]
    # RLOO: 1 - 0 = 1; 0 - 1/3 for the losers of t1; t2: 0.5 - 0 and 0 - 0.5
    assert RLOOCredit()(walks) == rows([[1.0] * 2, [-1 / 3], [-1 / 3] * 3, [-1 / 3] * 2, [0.5], [-0.5] * 2])
    assert RLOOCredit()([walk("alone", [1.0])]) == [[1.0]]


def test_discounted_returns_by_hand() -> None:
    assert discounted_returns([0.0, 0.0, 1.0], 0.9) == pytest.approx([0.81, 0.9, 1.0])
    assert discounted_returns([1.0, 0.0, 2.0], 0.5) == pytest.approx([1.5, 1.0, 2.0])
    assert discounted_returns([], 0.5) == []


def test_gigpo_by_hand() -> None:
    # Three episodes of one task from state s0 (gamma 0.5, F_norm = 1):
    #   e1: s0 -> s1 -> won                    returns (0.5, 1)
    #   e2: s0 (a rejected command) s0 -> s1 -> won   returns (0.25, 0.5, 1)
    #   e3: s0 -> s2 -> lost                   returns (0, 0)
    walks = [walk("t", [0.0, 1.0], ["s0", "s1"]), walk("t", [0.0, 0.0, 1.0], ["s0", "s0", "s1"]),
             walk("t", [0.0, 0.0], ["s0", "s2"])]
    # episode level: outcomes (1, 1, 0), mean 2/3. Step groups: s0 holds (0.5, 0.25, 0.5, 0), mean 0.3125;
    # s1 holds (1, 1); s2 holds e3's last step alone (keeps its return 0).
    e_win, e_lose = 1 / 3, -2 / 3
    assert GiGPOCredit(gamma=0.5, scale="none")(walks) == rows([
        [e_win + 0.1875, e_win + 0.0], [e_win - 0.0625, e_win + 0.1875, e_win + 0.0], [e_lose - 0.3125, e_lose + 0.0]])
    # the step weight scales only the step part
    assert GiGPOCredit(gamma=0.5, scale="none", step_weight=2.0)(walks)[1] == pytest.approx(
        [e_win - 0.125, e_win + 0.375, e_win])
    # F_norm = std: both levels divided by their group's sample std
    s0_std = statistics.stdev([0.5, 0.25, 0.5, 0.0])
    e_std = statistics.stdev([1.0, 1.0, 0.0])
    got = GiGPOCredit(gamma=0.5)(walks)
    assert got[2] == pytest.approx([-2 / 3 / (e_std + EPS) - 0.3125 / (s0_std + EPS), -2 / 3 / (e_std + EPS) + 0.0])
    assert got[0][1] == pytest.approx(1 / 3 / (e_std + EPS))  # s1's two returns are equal: step part 0


def test_gigpo_anchors_never_cross_tasks_and_text_anchors_follow_the_text() -> None:
    a, b = walk("t1", [0.0, 1.0], ["s0", "s1"]), walk("t2", [0.0, 0.0], ["s0", "s2"])
    # different tasks: every group has one member, so each step keeps its outcome/return
    assert GiGPOCredit(gamma=1.0, scale="none")([a, b]) == [[2.0, 2.0], [0.0, 0.0]]
    # verl-agent's anchors: observation text. Same text, different states -> one group
    c = walk("t", [0.0, 1.0], ["s0", "s1"], texts=["room", "end"])
    d = walk("t", [0.0, 0.0], ["s0", "s9"], texts=["room", "end"])
    by_text = GiGPOCredit(gamma=1.0, scale="none", anchor="observation")([c, d])
    by_state = GiGPOCredit(gamma=1.0, scale="none")([c, d])
    assert by_text == [[0.5 + 0.5, 0.5 + 0.5], [-0.5 - 0.5, -0.5 - 0.5]]
    assert by_state == [[0.5 + 0.5, 0.5 + 1.0], [-0.5 - 0.5, -0.5 + 0.0]]
    with pytest.raises(ValueError, match="step 0 of task 't' has none"):
        GiGPOCredit()([walk("t", [1.0])])
    with pytest.raises(ValueError, match="anchor must be one of"):
        GiGPOCredit(anchor="text")


def test_mc_prm_credits_by_hand() -> None:
    w = walk("t", [0.0, 0.0, 1.0])
    # V(s0)=0.2, V(s1)=0.6, V(s2)=0.9; the episode ends after the third step (V = 0 after)
    assert mc_prm_credits(w, [0.2, 0.6, 0.9]) == pytest.approx([0.4, 0.3, 0.1])
    assert sum(mc_prm_credits(w, [0.2, 0.6, 0.9])) == pytest.approx(1.0 - 0.2)
    with pytest.raises(ValueError, match="2 state values for 3 steps"):
        mc_prm_credits(w, [0.0, 0.0])
    method = get_credit_method("mc-prm", values=lambda walks: [[0.5, 0.5, 0.5] for _ in walks], rollouts=3)
    assert method([w]) == [pytest.approx([0.0, 0.0, 0.5])] and method.describe() == {"name": "mc-prm", "rollouts": 3}


def test_monte_carlo_values_from_saved_states_of_a_real_env() -> None:
    env = gym.make("SPA-ALFWorld-v0", split="valid_seen")
    env.reset(seed=0, options={"task_index": 0})
    base = env.unwrapped
    plan = []
    saved = base.clone_state()
    while (action := base.expert_action()) is not None and not base.won:
        plan.append(action)
        base.step(action)
    assert base.won and len(plan) >= 3
    values = MonteCarloValues(env, act=lambda obs, info: base.expert_action(), rollouts=2)
    # the expert from the start: wins with the whole plan, never with one step less
    assert values(saved, steps_left=len(plan)) == 1.0 and values.env_steps == 2 * len(plan)
    assert values(saved, steps_left=len(plan) - 1) == 0.0
    assert values.env_steps == 2 * len(plan) + 2 * (len(plan) - 1) == values.policy_calls
    # a policy that only looks never wins
    assert MonteCarloValues(env, act=lambda obs, info: "look", rollouts=3)(saved, steps_left=5) == 0.0
    with pytest.raises(ValueError, match="rollouts must be at least 1"):
        MonteCarloValues(env, act=lambda obs, info: "look", rollouts=0)


def test_registry_names_targets_and_errors() -> None:
    assert METHODS == ("sparse", "uniform", "outcome-broadcast", "spa", "grpo", "rloo", "gigpo", "mc-prm")
    targets = {name: get_credit_method(name).target for name in ("sparse", "uniform", "outcome-broadcast", "grpo",
                                                                   "rloo", "gigpo")}
    assert targets == {"sparse": "rewards", "uniform": "rewards", "outcome-broadcast": "rewards",
                       "grpo": "advantages", "rloo": "advantages", "gigpo": "advantages"}
    assert get_credit_method("gigpo").describe() == {"name": "gigpo", "gamma": 0.95, "step_weight": 1.0,
                                                     "scale": "std", "anchor": "state"}
    assert get_credit_method("grpo", scale="none").describe() == {"name": "grpo", "scale": "none"}
    with pytest.raises(ValueError, match="unknown credit method 'ppo'"):
        get_credit_method("ppo")
    with pytest.raises(ValueError, match="needs values="):
        get_credit_method("mc-prm")


class ProbeCredit:
    """A critic-free credit method that keeps what it was given and answers 10 * row + step."""

    name = "probe"
    target = "advantages"

    def describe(self):
        return {"name": self.name}

    def __call__(self, trajectories):
        self.seen = list(trajectories)
        return [[10.0 * row + step for step in range(len(t.steps))] for row, t in enumerate(trajectories)]


def test_ppo_critic_free_path_uses_the_credit_as_advantages(tmp_path, monkeypatch) -> None:
    envs = [gym.make("SPA-ALFWorld-v0", split="train", max_episode_steps=3) for _ in range(4)]
    args = PPOConfig(iterations=1, batch_size=4, group_size=2, mini_batch_size=4, gradient_accumulation_steps=1,
                     ppo_epochs=1, lr=1e-4, max_new_tokens=6, kl_coef=0.0, adaptive_kl=False, tensorboard=False)
    credit = ProbeCredit()
    seen = []
    real_policy_loss = ppo_module.policy_loss

    def spy(logprobs, old, advantages, mask, *rest):
        seen.append(advantages[mask].detach().clone())
        return real_policy_loss(logprobs, old, advantages, mask, *rest)

    batches = []
    real_make_batch = ppo_module.make_batch

    def keep_batch(*a, **k):
        batches.append(real_make_batch(*a, **k))
        return batches[-1]

    monkeypatch.setattr(ppo_module, "policy_loss", spy)
    monkeypatch.setattr(ppo_module, "make_batch", keep_batch)
    trainer = PPOTrainer(LLMPolicy.from_pretrained(tiny_model_path()), envs, credit, tmp_path / "ppo", args,
                         task_sampler=sample_task_indices(100))
    record = trainer.train(progress=False)[0]
    ids = [t.task_id for t in credit.seen]
    assert ids[0] == ids[1] and ids[2] == ids[3]  # two groups of two episodes of one task
    assert record["value_loss"] == 0.0  # no critic
    # the advantages PPO used: each step's value on each of its tokens, whitened over all action tokens
    # (population variance, eps 1e-8), rows in minibatch order (compared as sorted multisets)
    (batch,) = batches
    raw = 10.0 * torch.arange(4).unsqueeze(1) + batch.token_step.float()
    raw = raw[batch.action_mask]
    expected = (raw - raw.mean()) / torch.sqrt(raw.var(unbiased=False) + 1e-8)
    (used,) = seen
    assert torch.allclose(used.sort().values, expected.sort().values, atol=1e-5)
    history = (tmp_path / "ppo" / "ppo_history.json").read_text()
    assert '"credit": {\n    "name": "probe"\n  }' in history


def test_ppo_group_size_and_mc_prm_errors(tmp_path) -> None:
    envs = [gym.make("SPA-ALFWorld-v0", split="train", max_episode_steps=2) for _ in range(3)]
    policy = LLMPolicy.from_pretrained(tiny_model_path())
    with pytest.raises(ValueError, match="group_size 2 must divide batch_size 3"):
        PPOConfig(batch_size=3, mini_batch_size=1, gradient_accumulation_steps=1, group_size=2)
    with pytest.raises(ValueError, match="no Monte Carlo value function for 'mc-prm'"):
        PPOTrainer(policy, envs, get_credit_method("mc-prm", values=lambda walks: []), tmp_path / "b",
                   PPOConfig(batch_size=3, mini_batch_size=1, gradient_accumulation_steps=1))


def test_a_vector_env_resets_a_group_to_one_task() -> None:
    envs = gym.make_vec("SPA-WebShop-v0", num_envs=3, vectorization_mode="sync")
    _, infos = envs.reset(seed=[1, 2, 3], options={"task_id": envs.envs[0].unwrapped.task_ids()[5]})
    assert len(set(infos["task_id"])) == 1 and len(set(infos["state_key"])) == 1
    envs.close()
