"""The shared text space and the action type check."""

from __future__ import annotations

import copy

import pytest

from spa_gym.envs.base import UnboundedText, check_action


def test_unbounded_text_admits_any_str_within_length() -> None:
    space = UnboundedText(max_length=10)
    assert space.contains("")
    assert space.contains("a\n\tb ☃ !?")
    assert not space.contains("x" * 11)
    assert not space.contains(b"bytes")
    assert not space.contains(None)


def test_unbounded_text_samples_and_compares() -> None:
    space = UnboundedText(max_length=8, seed=0)
    samples = [space.sample() for _ in range(20)]
    assert all(space.contains(s) and len(s) <= 8 for s in samples)
    assert UnboundedText(max_length=8) == space
    assert UnboundedText(max_length=9) != space


def test_check_action_rejects_non_str() -> None:
    assert check_action("") == ""
    with pytest.raises(TypeError, match="got int: 5"):
        check_action(5)


def test_unbounded_text_through_shared_memory() -> None:
    from gymnasium.vector.utils import create_shared_memory, read_from_shared_memory, write_to_shared_memory

    space = UnboundedText(max_length=16)
    memory = create_shared_memory(space, n=3)
    for index, text in enumerate(["", "ünï ☃\n-", "x" * 16]):
        write_to_shared_memory(space, index, text, memory)
    view = read_from_shared_memory(space, memory, n=3)
    assert tuple(view) == ("", "ünï ☃\n-", "x" * 16)
    write_to_shared_memory(space, 0, "later", memory)
    assert view[0] == "later" and copy.deepcopy(view) == ("later", "ünï ☃\n-", "x" * 16)
    with pytest.raises(ValueError, match="exceeds"):
        write_to_shared_memory(space, 0, "x" * 17, memory)


def test_text_env_declares_its_capabilities() -> None:
    import gymnasium as gym

    import spa_gym  # noqa: F401
    from spa_gym.data import ExpertPolicy
    from spa_gym.envs.base import TextEnv

    class NoExpert(TextEnv):
        pass

    bare = NoExpert()
    assert bare.has_expert is False
    for method in (bare.num_tasks, bare.task_ids, bare.state_key, bare.clone_state):
        with pytest.raises(NotImplementedError):
            method()
    with pytest.raises(NotImplementedError, match="NoExpert has no expert"):
        bare.expert_action()
    with pytest.raises(TypeError, match=r"NoExpert has no expert_action\(\)"):
        ExpertPolicy(bare)
    # the evaluation splits SPA-RL uses: ALFWorld's 140 seen games, WebShop's 200 test goals, STeCa's 247
    for env_id, split, count in [("SPA-ALFWorld-v0", "valid_seen", 140), ("SPA-WebShop-v0", "test", 200),
                                 ("SPA-VirtualHome-v0", "test_seen", 247)]:
        env = gym.make(env_id, split=split).unwrapped
        assert isinstance(env, TextEnv) and env.has_expert
        assert env.num_tasks() == len(env.task_ids()) == count
