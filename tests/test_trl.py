"""TRL adapter: episode token layouts, env and SPA rewards, GRPOTrainer with a rollout_func, the example."""

from __future__ import annotations

import importlib.util
import os
import sys
from types import SimpleNamespace

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing may come from a model hub
os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")  # rollout_func is experimental in TRL
pytest.importorskip("trl")

import gymnasium as gym  # noqa: E402
import torch  # noqa: E402
from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: E402

import spa_gym  # noqa: E402, F401
from conftest import REPO_ROOT, untrained_but_varied  # noqa: E402
from spa_gym.agents.conversation import template_ids  # noqa: E402
from spa_gym.agents.policy import LLMPolicy  # noqa: E402
from spa_gym.agents.prompts import build_messages, get_prompt, parse_action  # noqa: E402
from spa_gym.data import Trajectory  # noqa: E402
from spa_gym.integrations.trl import (  # noqa: E402
    EnvRollout,
    env_outcome,
    rollout_output,
    spa_shaping,
    spread_turn_advantages,
)
from spa_gym.integrations.turns import EpisodeTokens, add_spa_rewards, group_turn_advantages  # noqa: E402
from spa_gym.progress import ProgressEstimator, SPAReward  # noqa: E402
from spa_gym.training import ModelNotInstalledError, resolve_model, tiny_model_path  # noqa: E402
from spa_gym.wrappers import SPARewardWrapper  # noqa: E402

ENV = "SPA-ALFWorld-v0"
SPLIT = "valid_seen"
STEPS = 3
REWARD = SPAReward(alpha=2.0, beta=0.25)


@pytest.fixture(scope="module")
def tiny():
    path = resolve_model("tiny", ENV)
    return path, AutoModelForCausalLM.from_pretrained(path), AutoTokenizer.from_pretrained(path)


@pytest.fixture(scope="module")
def estimator() -> ProgressEstimator:
    return untrained_but_varied(ProgressEstimator.from_backbone(tiny_model_path(), seed=2))


def rollout(**kwargs) -> EnvRollout:
    return EnvRollout(ENV, split=SPLIT, max_episode_steps=STEPS, max_new_tokens=6, **kwargs)


def grpo_config(tmp_path, **kwargs):
    from trl import GRPOConfig

    settings = dict(output_dir=str(tmp_path), max_steps=1, per_device_train_batch_size=4, num_generations=2,
                    learning_rate=1e-3, logging_steps=1, report_to="none", bf16=False, use_cpu=True,
                    gradient_checkpointing=False, save_strategy="no", seed=0)
    return GRPOConfig(**{**settings, **kwargs})


# -- the token layout -------------------------------------------------------------------------------
def test_spans_and_mask_cover_exactly_the_generated_ids(tiny) -> None:
    _, model, tokenizer = tiny
    play = rollout()
    tasks = ["valid_seen-0000", "valid_seen-0005"]
    episodes = play.play(model, tokenizer, tasks, seeds=[0, 1], greedy=True)
    policy = LLMPolicy(model, tokenizer)
    env = gym.make(ENV, split=SPLIT)
    for task, episode in zip(tasks, episodes):
        initial, _ = env.reset(options={"task_id": task})
        messages = build_messages(get_prompt(ENV, "compact"), initial)
        assert episode.prompt_ids == template_ids(tokenizer, messages, add_generation_prompt=True)
        ids = episode.completion_ids
        assert episode.num_turns == STEPS and episode.truncated and not episode.terminated
        mask = episode.model_mask
        assert len(mask) == len(ids) and sum(mask) == sum(end - start for start, end in episode.turn_spans)
        previous_end = 0
        for turn, (start, end) in enumerate(episode.turn_spans):
            assert previous_end <= start < end <= len(ids) and set(mask[start:end]) == {1}
            assert tokenizer.decode(ids[start:end], skip_special_tokens=True) == episode.texts[turn]
            assert parse_action(episode.texts[turn], "compact") == episode.actions[turn]
            # the span is what the model generates from exactly the ids before it (greedy, plain HF generate)
            [again] = policy.generate([episode.prompt_ids + ids[:start]], max_new_tokens=6, do_sample=False)
            assert again.ids == ids[start:end]
            if turn + 1 < episode.num_turns:  # the env's answer sits between the turns, masked out
                gap = ids[end : episode.turn_spans[turn + 1][0]]
                assert set(mask[end : episode.turn_spans[turn + 1][0]]) == {0}
                answer = tokenizer.encode(episode.observations[turn].strip(), add_special_tokens=False)
                assert any(gap[i : i + len(answer)] == answer for i in range(len(gap)))
            previous_end = end
        assert set(mask[previous_end:]) <= {0} and len(ids) - previous_end <= 1  # at most a closing token


def test_recorded_rewards_are_the_envs(tiny) -> None:
    _, model, tokenizer = tiny
    torch.manual_seed(0)
    episodes = rollout().play(model, tokenizer, ["valid_seen-0001"] * 2, seeds=[3, 4])
    for seed, episode in zip([3, 4], episodes):
        env = gym.make(ENV, split=SPLIT, max_episode_steps=STEPS)
        env.reset(seed=seed, options={"task_id": "valid_seen-0001"})
        replay = [env.step(action) for action in episode.actions]
        assert episode.observations == [step[0] for step in replay]
        assert episode.env_rewards == [step[1] for step in replay]
        assert episode.grounded == [step[4]["grounded"] for step in replay]
        assert episode.outcome == sum(step[1] for step in replay) and episode.won == replay[-1][4]["won"]
    output = rollout_output(episodes)
    assert env_outcome(output["completion_ids"], output["outcome"]) == [e.outcome for e in episodes]
    assert output["logprobs"] is None and output["env_mask"] == [e.model_mask for e in episodes]


def test_spa_rewards_equal_the_wrappers(tiny, estimator) -> None:
    _, model, tokenizer = tiny
    play = rollout(estimator=estimator, reward=REWARD)
    episodes = play.play(model, tokenizer, ["valid_seen-0002", "valid_seen-0003"], seeds=[5, 6])
    expert = expert_episodes([7, 9])  # grounded steps and a win, at different lengths
    add_spa_rewards(expert, estimator, REWARD)
    for seed, episode in zip([5, 6, None, None], episodes + expert):
        env = SPARewardWrapper(gym.make(ENV, split=SPLIT), estimator, REWARD)
        env.reset(seed=seed, options={"task_id": episode.task_id})
        steps = [env.step(action) for action in episode.actions]
        assert episode.spa_rewards == pytest.approx([step[1] for step in steps], abs=1e-5)
        assert episode.progress == pytest.approx([step[4]["progress"] for step in steps], abs=1e-5)
        assert episode.spa_shaping == pytest.approx([r - e for r, e in zip(episode.spa_rewards, episode.env_rewards)])
    assert expert[0].won and expert[0].outcome == 1.0 and all(expert[0].grounded)
    output = rollout_output(episodes)
    assert spa_shaping([], output["shaping"]) == pytest.approx([sum(e.spa_shaping) for e in episodes])
    assert output["turn_rewards"] == [e.spa_shaping for e in episodes]


def expert_episodes(indices: list[int]) -> list[EpisodeTokens]:
    """The expert's episodes as layouts with made-up token ids (one id per turn): SPA scores only the text."""
    episodes = []
    for index in indices:
        env = gym.make(ENV, split=SPLIT)
        obs, info = env.reset(options={"task_index": index})
        walk = Trajectory(ENV, info["task_id"], info["task"], obs)
        while (action := env.unwrapped.expert_action()) is not None:
            obs, reward, terminated, _, info = env.step(action)
            walk.add_step(action, obs, reward, info["grounded"])
            if terminated:
                walk.won = info["won"]
                break
        spans = [(2 * t, 2 * t + 1) for t in range(len(walk.steps))]
        episodes.append(EpisodeTokens.from_conversation(list(range(2 * len(walk.steps) + 1)), 1,
                                                        [(s + 1, e + 1) for s, e in spans], walk, terminated=True))
    return episodes


def test_per_turn_helpers() -> None:
    terms = group_turn_advantages([[1.0, 0.0], [1.0], [2.0], [2.0, 2.0]], group_size=2)
    assert terms[2:] == [[0.0], [0.0, 0.0]]  # a group of equal turn rewards gives no turn credit
    assert sum(terms[0] + terms[1]) == pytest.approx(0.0)
    assert group_turn_advantages([[1.0, 3.0]], group_size=1, scale=False) == [[-1.0, 1.0]]
    tokens = spread_turn_advantages(torch.tensor([0.5, -0.5]), [[(0, 2)], [(1, 3)]], [[1.0], [2.0]], 4, weight=0.5)
    assert tokens.tolist() == [[1.0, 1.0, 0.5, 0.5], [-0.5, 0.5, 0.5, -0.5]]
    with pytest.raises(ValueError, match="groups of 2"):
        group_turn_advantages([[1.0]], group_size=2)


def test_misuse_is_one_line_error() -> None:
    play = rollout()
    with pytest.raises(ValueError, match="need an estimator"):
        play.reward_funcs(per_turn=True)
    assert [f.__name__ for f in play.reward_funcs()] == ["env_outcome"]
    with pytest.raises(ValueError, match="unknown task ids"):
        play.dataset(["valid_seen-9999"])
    assert play.dataset([0, "valid_seen-0003"])["prompt"] == ["valid_seen-0000", "valid_seen-0003"]
    trainer = SimpleNamespace(args=SimpleNamespace(top_p=0.9))
    with pytest.raises(ValueError, match="top_p=1.0"):
        play(["valid_seen-0000"], trainer)
    with pytest.raises(TypeError, match="task ids"):
        play([[{"role": "user", "content": "hi"}]], SimpleNamespace(args=SimpleNamespace()))
    with pytest.raises(ValueError, match="no agent prompt"):
        EnvRollout("CartPole-v1")


# -- TRL ------------------------------------------------------------------------------------------
def test_grpo_takes_the_env_outcome_and_spa_sum(tmp_path, tiny, estimator) -> None:
    from trl import GRPOTrainer

    path, _, tokenizer = tiny
    play = rollout(estimator=estimator, reward=REWARD)
    seen = []

    def recording(prompts, trainer):
        seen.append(list(prompts))
        return play(prompts, trainer)

    trainer = GRPOTrainer(model=AutoModelForCausalLM.from_pretrained(path), processing_class=tokenizer,
                          args=grpo_config(tmp_path), train_dataset=play.dataset(range(4)),
                          reward_funcs=play.reward_funcs(), rollout_func=recording)
    trainer.train()
    [prompts] = seen  # TRL hands the rollout each task num_generations times in a row
    assert len(prompts) == 4 and prompts[0] == prompts[1] and prompts[2] == prompts[3]
    [log] = [entry for entry in trainer.state.log_history if "reward" in entry]
    episodes = play.last_episodes
    assert log["rewards/env_outcome/mean"] == pytest.approx(sum(e.outcome for e in episodes) / 4)
    assert log["rewards/spa_shaping/mean"] == pytest.approx(sum(sum(e.spa_shaping) for e in episodes) / 4, abs=1e-5)
    assert log["completions/mean_length"] == pytest.approx(sum(sum(e.model_mask) for e in episodes) / 4)


def test_turn_reward_trainer_puts_each_turns_advantage_on_its_tokens(tmp_path, tiny, estimator) -> None:
    from spa_gym.integrations.trl import TurnRewardGRPOTrainer

    path, _, tokenizer = tiny
    play = rollout(estimator=estimator, reward=REWARD)
    with pytest.raises(ValueError, match="count SPA's terms twice"):
        TurnRewardGRPOTrainer(model=AutoModelForCausalLM.from_pretrained(path), processing_class=tokenizer,
                              args=grpo_config(tmp_path), train_dataset=play.dataset(range(4)),
                              reward_funcs=play.reward_funcs(), rollout_func=play)
    trainer = TurnRewardGRPOTrainer(model=AutoModelForCausalLM.from_pretrained(path), processing_class=tokenizer,
                                    args=grpo_config(tmp_path), train_dataset=play.dataset(range(4)),
                                    reward_funcs=play.reward_funcs(per_turn=True), rollout_func=play,
                                    turn_reward_weight=0.5)
    outputs = []
    score = trainer._generate_and_score_completions
    trainer._generate_and_score_completions = lambda inputs: outputs.append(score(inputs)) or outputs[-1]
    trainer.train()
    [output] = outputs
    episodes = play.last_episodes
    advantages = output["advantages"]
    assert advantages.shape == output["completion_ids"].shape
    outcome = torch.tensor([e.outcome for e in episodes]).view(-1, 2)
    base = ((outcome - outcome.mean(1, keepdim=True)) / (outcome.std(1, keepdim=True) + 1e-4)).flatten()
    terms = group_turn_advantages([e.spa_shaping for e in episodes], group_size=2)
    assert any(abs(term) > 0.1 for turn in terms for term in turn)
    for row, episode in enumerate(episodes):
        expected = [base[row].item()] * advantages.shape[1]
        for (start, end), term in zip(episode.turn_spans, terms[row]):
            expected[start:end] = [base[row].item() + 0.5 * term] * (end - start)
        assert advantages[row].tolist() == pytest.approx(expected, abs=1e-5)
    assert any(entry.get("grad_norm", 0.0) > 0.0 for entry in trainer.state.log_history)


def test_environment_factory_needs_a_tool_calling_template(tmp_path, tiny) -> None:
    """Why the adapter is a rollout_func: TRL's tool-based env loop cannot parse these models' turns."""
    from trl import GRPOTrainer
    from trl.chat_template_utils import supports_tool_calling

    class Env:
        def reset(self, **kwargs) -> str:
            return "You are in a room."

        def act(self, command: str) -> str:
            """Send a command.

            Args:
                command: the command.
            """
            return "Nothing happens."

    path, model, tokenizer = tiny
    with pytest.raises(ValueError, match="does not support tool calling"):
        GRPOTrainer(model=model, processing_class=tokenizer, args=grpo_config(tmp_path), environment_factory=Env,
                    reward_funcs=[env_outcome])
    try:
        smollm2 = AutoTokenizer.from_pretrained(resolve_model("smollm2-135m"))
    except ModelNotInstalledError:
        return
    assert not supports_tool_calling(smollm2)


# -- the example ----------------------------------------------------------------------------------
def example_main():
    spec = importlib.util.spec_from_file_location("trl_grpo_example", REPO_ROOT / "examples" / "trl_grpo.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module.main


def test_example_runs_two_steps_on_the_tiny_model(tmp_path) -> None:
    example_main()(["--max-steps", "2", "--out", str(tmp_path / "run")])
    written = {p.name for p in (tmp_path / "run").iterdir()}
    assert {"model.safetensors", "config.json", "log_history.json", "episodes.jsonl"} <= written


@pytest.mark.slow
def test_example_runs_with_smollm2_when_installed(tmp_path) -> None:
    try:
        resolve_model("smollm2-135m")
    except ModelNotInstalledError as error:
        pytest.skip(str(error))
    example_main()(["--model", "smollm2-135m", "--env", "SPA-WebShop-v0", "--max-steps", "1", "--batch-size", "2",
                    "--num-generations", "2", "--max-episode-steps", "2", "--max-new-tokens", "8",
                    "--out", str(tmp_path / "run")])
    assert {"adapter_model.safetensors", "log_history.json"} <= {p.name for p in (tmp_path / "run").iterdir()}
