"""The vLLM backend's wiring, against a stand-in ``vllm`` module (vLLM itself needs a GPU): what it
asks the engine, the ids it keeps, the weights it syncs, and the PPO trainer using it."""

from __future__ import annotations

import sys
import types

import gymnasium as gym
import pytest
import torch

import spa_gym  # noqa: F401
from spa_gym.agents.policy import LLMPolicy
from spa_gym.agents.ppo import PPOConfig, PPOTrainer, sample_task_indices
from spa_gym.agents.rollout import play_episodes
from spa_gym.agents.vllm_generator import VLLMGenerator, vllm_parameter_names
from spa_gym.credit import get_credit_method
from spa_gym.training import lora_config, tiny_model_path


class FakeModel:
    def __init__(self):
        self.loaded: list[tuple[str, torch.Tensor]] = []

    def load_weights(self, weights):
        self.loaded += [(name, tensor.clone()) for name, tensor in weights]


class FakeLLM:
    """Answers every prompt with the same command and a stop token; records what it was asked."""

    instances: list[FakeLLM] = []
    answer: list[int] = []

    def __init__(self, model, **kwargs):
        self.model, self.kwargs, self.calls, self.cache_resets = model, kwargs, [], 0
        runner = types.SimpleNamespace(model=FakeModel())
        self.llm_engine = types.SimpleNamespace(
            model_executor=types.SimpleNamespace(driver_worker=types.SimpleNamespace(model_runner=runner)))
        FakeLLM.instances.append(self)

    def generate(self, prompts, params, use_tqdm=True):
        self.calls.append((prompts, params))
        out = types.SimpleNamespace(token_ids=list(FakeLLM.answer))
        return [types.SimpleNamespace(outputs=[out]) for _ in prompts]

    def reset_prefix_cache(self):
        self.cache_resets += 1


class FakeSamplingParams:
    def __init__(self, **kwargs):
        self.kwargs = kwargs


@pytest.fixture
def fake_vllm(monkeypatch):
    module = types.ModuleType("vllm")
    module.LLM, module.SamplingParams = FakeLLM, FakeSamplingParams
    monkeypatch.setitem(sys.modules, "vllm", module)
    FakeLLM.instances = []
    yield module


def answer_ids(policy: LLMPolicy, text: str) -> list[int]:
    return policy.tokenizer(text, add_special_tokens=False)["input_ids"] + [min(policy.stop_token_ids)]


def test_generation_keeps_vllms_ids_and_asks_for_the_policys_stop_tokens(fake_vllm) -> None:
    policy = LLMPolicy.from_pretrained(tiny_model_path())
    FakeLLM.answer = answer_ids(policy, "look")
    generator = VLLMGenerator(policy, gpu_memory_utilization=0.5)
    (llm,) = FakeLLM.instances
    assert llm.kwargs["dtype"] == "float32" and llm.kwargs["gpu_memory_utilization"] == 0.5
    got = generator.generate({3: [1, 2, 3], 7: [4, 5]}, max_new_tokens=9, do_sample=False)
    prompts, params = llm.calls[0]
    assert prompts == [{"prompt_token_ids": [1, 2, 3]}, {"prompt_token_ids": [4, 5]}]
    assert params.kwargs == {"max_tokens": 9, "temperature": 0.0, "top_p": 1.0,
                             "stop_token_ids": sorted(policy.stop_token_ids)}
    assert set(got) == {3, 7} and got[3].ids == FakeLLM.answer and got[3].stopped and got[3].text.strip() == "look"
    assert generator.generate({}) == {}


def test_sync_sends_every_language_model_weight_under_vllms_names(fake_vllm) -> None:
    policy = LLMPolicy.from_pretrained(tiny_model_path())
    generator = VLLMGenerator(policy)
    generator.sync_weights()
    model = FakeLLM.instances[0].llm_engine.model_executor.driver_worker.model_runner.model
    expected = dict(policy.model.named_parameters())
    assert [name for name, _ in model.loaded] == list(expected)
    assert all(torch.equal(tensor, expected[name]) for name, tensor in model.loaded)
    assert FakeLLM.instances[0].cache_resets == 1


def test_a_lora_policy_syncs_merged_weights_and_stays_unmerged(fake_vllm) -> None:
    policy = LLMPolicy.from_pretrained(tiny_model_path(), lora=lora_config(rank=4))
    with torch.no_grad():
        for name, p in policy.model.named_parameters():
            if "lora_B" in name:
                p.fill_(0.01)  # a non-zero adapter
    before = {n: p.detach().clone() for n, p in policy.model.named_parameters()}
    VLLMGenerator(policy)  # a LoRA policy's engine starts from the base and syncs at once
    (llm,) = FakeLLM.instances
    assert llm.model == policy.base_model_path
    loaded = dict(llm.llm_engine.model_executor.driver_worker.model_runner.model.loaded)
    assert not any("lora_" in n or "base_layer" in n or n.startswith("base_model") for n in loaded)
    name = next(n for n in before if n.endswith("base_layer.weight"))
    plain = name.removeprefix("base_model.model.").replace(".base_layer", "")
    module = policy.model.get_submodule(name.removesuffix(".base_layer.weight"))
    assert torch.equal(loaded[plain], before[name] + module.get_delta_weight("default"))  # base + the adapter's delta
    assert not torch.equal(loaded[plain], before[name])
    assert all(torch.equal(p, before[n]) for n, p in policy.model.named_parameters())  # the policy untouched


def test_ppo_plays_with_vllm_and_syncs_before_each_iteration(fake_vllm, tmp_path) -> None:
    policy = LLMPolicy.from_pretrained(tiny_model_path())
    FakeLLM.answer = answer_ids(policy, "look")
    envs = [gym.make("SPA-ALFWorld-v0", split="train", max_episode_steps=2) for _ in range(2)]
    args = PPOConfig(iterations=2, batch_size=2, mini_batch_size=1, gradient_accumulation_steps=1, ppo_epochs=1,
                     max_new_tokens=6, tensorboard=False, generation_backend="vllm")
    trainer = PPOTrainer(policy, envs, get_credit_method("uniform"), tmp_path, args,
                         task_sampler=sample_task_indices(100))
    history = trainer.train(progress=False)
    (llm,) = FakeLLM.instances  # one engine for the run
    model = llm.llm_engine.model_executor.driver_worker.model_runner.model
    assert len(history) == 2 and len(llm.calls) == 4  # 2 iterations x 2 turns
    assert len(model.loaded) == len(list(policy.model.parameters()))  # synced once, before iteration 2
    episodes = play_episodes(policy, envs, seeds=[0, 1], max_new_tokens=6, generator=trainer._vllm)
    assert [s.action for s in episodes[0].trajectory.steps] == ["look", "look"]
    assert episodes[0].conversation.ids[episodes[0].conversation.action_spans[0][0]:][:len(FakeLLM.answer)] \
        == FakeLLM.answer  # vLLM's ids, as they are


def test_names_and_backend_errors(monkeypatch) -> None:
    t = torch.zeros(1)
    assert [n for n, _ in vllm_parameter_names([("value_head.weight", t), ("lm_head.weight", t)])] == ["lm_head.weight"]
    with pytest.raises(ValueError, match="generation backend must be one of"):
        PPOConfig(batch_size=8, generation_backend="sglang")
    monkeypatch.setitem(sys.modules, "vllm", None)  # not installed
    with pytest.raises(ImportError, match="pip install vllm"):
        VLLMGenerator(LLMPolicy.from_pretrained(tiny_model_path()))
