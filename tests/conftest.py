"""Shared test helpers: where the recordings of the real engines live, a private SPA_GYM_HOME, and
the check that an env's state keys are the digest of its world."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def fixtures_root() -> Path | None:
    """``$SPA_GYM_FIXTURES`` or ``../shared/fixtures`` beside the repo root, if it exists."""
    configured = os.environ.get("SPA_GYM_FIXTURES")
    root = Path(configured) if configured else REPO_ROOT.parent / "shared" / "fixtures"
    return root if root.is_dir() else None


@pytest.fixture(scope="session")
def alfworld_fixtures() -> Path:
    return _engine_fixtures("alfworld")


def _engine_fixtures(name: str) -> Path:
    root = fixtures_root()
    if root is None or not (root / name).is_dir():
        pytest.skip(f"{name} fixtures not found: set SPA_GYM_FIXTURES or place shared/fixtures beside the repo")
    return root / name


@pytest.fixture(scope="session")
def webshop_fixtures() -> Path:
    return _engine_fixtures("webshop")


@pytest.fixture(scope="session")
def virtualhome_fixtures() -> Path:
    return _engine_fixtures("virtualhome")


def untrained_but_varied(estimator):
    """A new estimator's head starts at zero (every c_t = 0); give it random weights so tests see varied scores."""
    import torch

    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        estimator.head[2].weight.copy_(torch.randn(estimator.head[2].weight.shape, generator=generator))
    return estimator


class PicklePayload:
    """Pickles to a call that creates ``marker``: what an attacker would plant in a file we load."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture(scope="module")
def private_spa_gym_home(tmp_path_factory):
    """Catalogs and indexes of a test module go to a temporary SPA_GYM_HOME (use with
    ``pytestmark = pytest.mark.usefixtures("private_spa_gym_home")``)."""
    previous = os.environ.get("SPA_GYM_HOME")
    os.environ["SPA_GYM_HOME"] = str(tmp_path_factory.mktemp("spa_gym_home"))
    yield
    if previous is None:
        del os.environ["SPA_GYM_HOME"]
    else:
        os.environ["SPA_GYM_HOME"] = previous


def key_of_world(env: Any) -> str:
    """TextEnv's own digest of ``_world_state`` (envs build their keys from cached parts)."""
    return hashlib.blake2b(repr(env._world_state()).encode(), digest_size=16).hexdigest()


def play_checking_keys(env: Any, actions: list[str]) -> list[tuple]:
    """``(obs, reward, terminated, truncated, info)`` of each action; each step's key is checked
    against the world it names and against the base class's digest."""
    from spa_gym.envs.base import TextEnv

    results = []
    for action in actions:
        results.append(env.step(action))
        assert results[-1][4]["state_key"] == key_of_world(env.unwrapped) == TextEnv.state_key(env.unwrapped)
    return results


def check_restores(make_env, reset: dict, actions: list[str], points: list[int], fresh_reset: dict,
                   fresh_action: str | None = None) -> None:
    """From each point of ``points`` (steps done), restoring in the same env (twice) and in a fresh one
    (reset with ``fresh_reset`` and stepped once, with ``fresh_action`` or its first admissible
    command) gives exactly the rest of the original episode."""
    env = make_env()
    env.reset(**reset)
    reference = play_checking_keys(env, actions)
    env.reset(**reset)
    saved = {}
    for done, action in enumerate([*actions, None]):
        if done in points:
            saved[done] = (env.unwrapped.clone_state(), env.unwrapped.last_observation, env.unwrapped._info())
        if action is not None:
            assert env.step(action) == reference[done], (done, action)
    fresh = make_env()
    fresh.reset(**fresh_reset)
    fresh.step(fresh_action or fresh.unwrapped._info()["admissible_actions"][0])
    for done, (state, observation, info) in saved.items():
        for target in (env, env, fresh):
            assert target.unwrapped.restore_state(state) == (observation, info), done
            assert play_checking_keys(target, actions[done:]) == reference[done:], done
