"""KV-cached multi-turn generation: exactly what re-encoding every turn generates, for fewer tokens."""

from __future__ import annotations

import gymnasium as gym
import pytest
import torch

import spa_gym  # noqa: F401
from spa_gym.agents.incremental import IncrementalGenerator
from spa_gym.agents.policy import LLMPolicy
from spa_gym.agents.rollout import play_episodes
from spa_gym.training import resolve_model, tiny_model_path
from tests.test_models import needs_smollm2


def _episodes(policy: LLMPolicy, limits: list[int], kv_cache: bool, env_id: str = "SPA-ALFWorld-v0"):
    envs = [gym.make(env_id, split="valid_seen" if "ALF" in env_id else "test", max_episode_steps=n) for n in limits]
    return play_episodes(policy, envs, options=[{"task_index": i} for i in range(len(envs))], greedy=True,
                         max_new_tokens=12, kv_cache=kv_cache)


def test_cached_rollouts_equal_re_encoding_as_episodes_end_at_different_turns():
    policy = LLMPolicy.from_pretrained(tiny_model_path())
    limits = [2, 7, 4, 9]  # rows leave the cache after 2, 4, 7 and 9 turns
    cached, plain = _episodes(policy, limits, True), _episodes(policy, limits, False)
    assert [len(e.trajectory.steps) for e in cached] == limits
    assert [e.conversation.ids for e in cached] == [e.conversation.ids for e in plain]
    assert [e.conversation.action_spans for e in cached] == [e.conversation.action_spans for e in plain]
    assert [[s.raw_output for s in e.trajectory.steps] for e in cached] == [
        [s.raw_output for s in e.trajectory.steps] for e in plain]


def test_a_conversation_that_does_not_extend_the_cache_is_generated_afresh():
    policy = LLMPolicy.from_pretrained(tiny_model_path())
    encode = policy.tokenizer.encode
    first = encode("<|user|> You are in the middle of a room. <|end|> <|assistant|>")
    other = encode("<|user|> You arrive at loc 3. On the desk 1, you see a pen 1. <|end|> <|assistant|>")
    generator = IncrementalGenerator(policy)
    generator.generate({0: first, 1: first}, max_new_tokens=5, do_sample=False)
    again = generator.generate({0: other, 1: first + [5]}, max_new_tokens=5, do_sample=False)
    fresh = policy.generate([other, first + [5]], max_new_tokens=5, do_sample=False)
    assert [again[0].ids, again[1].ids] == [g.ids for g in fresh]
    assert generator.rows == [0, 1] and generator.cached[0][: len(other)] == other


def test_the_same_conversation_asked_again_is_generated_again():
    policy = LLMPolicy.from_pretrained(tiny_model_path())
    prompt = policy.tokenizer.encode("<|user|> You are in the middle of a room. <|end|> <|assistant|>")
    generator = IncrementalGenerator(policy)
    first = generator.generate({0: prompt}, max_new_tokens=1, do_sample=False)[0]
    assert generator.generate({0: prompt}, max_new_tokens=1, do_sample=False)[0].ids == first.ids
    with pytest.raises(ValueError, match="max_new_tokens must be at least 1, not 0"):
        generator.generate({0: prompt}, max_new_tokens=0)


def test_rows_not_asked_for_are_dropped_from_the_cache():
    policy = LLMPolicy.from_pretrained(tiny_model_path())
    prompt = policy.tokenizer.encode("<|user|> You are in the middle of a room. <|end|> <|assistant|>")
    generator = IncrementalGenerator(policy)
    out = generator.generate({0: prompt, 1: prompt, 2: prompt}, max_new_tokens=3, do_sample=False)
    grown = prompt + out[2].ids
    generator.generate({2: grown}, max_new_tokens=3, do_sample=False)
    assert generator.rows == [2]
    assert generator.valid.shape[0] == 1
    assert generator.cache.get_seq_length() == generator.valid.shape[1]


def test_top_p_samples_only_from_the_nucleus():
    torch.manual_seed(0)
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.2]])).expand(2000, -1)
    assert set(IncrementalGenerator._sample(logits, True, 1.0, 0.5)) == {0}
    nucleus = IncrementalGenerator._sample(logits, True, 1.0, 0.6)
    assert set(nucleus) == {0, 1}
    assert abs(nucleus.count(0) / len(nucleus) - 0.5 / 0.8) < 0.04
    assert set(IncrementalGenerator._sample(logits, True, 1.0, 1.0)) == {0, 1, 2}
    assert IncrementalGenerator._sample(logits[:1], False, 1.0, 1.0) == [0]


@needs_smollm2
@pytest.mark.slow
def test_cached_rollouts_equal_re_encoding_on_smollm2():
    policy = LLMPolicy.from_pretrained(resolve_model("smollm2-135m"))
    limits = [3, 5]
    cached, plain = _episodes(policy, limits, True), _episodes(policy, limits, False)
    assert [e.conversation.ids for e in cached] == [e.conversation.ids for e in plain]


def test_a_history_window_shows_the_policy_the_last_turns_and_caching_still_matches(monkeypatch):
    policy = LLMPolicy.from_pretrained(tiny_model_path())
    envs = [gym.make("SPA-ALFWorld-v0", split="valid_seen", max_episode_steps=n) for n in (6, 3)]
    play = dict(options=[{"task_index": i} for i in range(2)], greedy=True, max_new_tokens=6, history_window=2)
    cached = play_episodes(policy, envs, kv_cache=True, **play)
    seen = []
    original = LLMPolicy.generate

    def recording(self, prompts, **kwargs):
        seen.append([list(p) for p in prompts])
        return original(self, prompts, **kwargs)

    monkeypatch.setattr(LLMPolicy, "generate", recording)
    plain = play_episodes(policy, envs, kv_cache=False, **play)
    assert [e.conversation.ids for e in cached] == [e.conversation.ids for e in plain]
    talk = plain[0].conversation
    opening = talk.ids[: talk.opening_length]
    starts = [start for start, _ in talk.action_spans]
    assert len(seen) == 6 and [len(batch) for batch in seen] == [2, 2, 2, 1, 1, 1]
    for turn, batch in enumerate(seen):
        first_kept = max(0, turn - 2)
        expected = (talk.ids[: starts[turn]] if first_kept == 0
                    else opening + talk.ids[starts[first_kept] : starts[turn]])
        assert batch[0] == expected
    assert len(seen[5][0]) < starts[5]  # the window dropped the first three turns
