"""Replay every transcript recorded from the real ALFWorld/TextWorld engine; require zero differences."""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym
import pytest

import spa_gym  # noqa: F401  (registers the ids)
from conftest import fixtures_root


def _transcripts() -> list[tuple[Path, int, str]]:
    root = fixtures_root()
    if root is None or not (root / "alfworld").is_dir():
        return []
    cases = []
    for path in sorted((root / "alfworld").glob("*/*/transcripts.json")):
        for i, walk in enumerate(json.loads(path.read_text())):
            cases.append((path, i, f"{path.parent.parent.name[:40]}-{walk['grammar']}-{walk['kind']}"))
    return cases


CASES = _transcripts()


def test_fixtures_present(alfworld_fixtures: Path) -> None:
    index = json.loads((alfworld_fixtures / "index.json").read_text())
    assert len(CASES) == sum(len(game["transcripts"]) for game in index["games"])
    assert {walk_grammar for walk_grammar in (c[2].split("-")[-2] for c in CASES)} == {"2.1.1", "2.1.3"}


@pytest.mark.parametrize("path,index", [(c[0], c[1]) for c in CASES], ids=[c[2] for c in CASES])
def test_replay_matches_real_engine(path: Path, index: int) -> None:
    walk = json.loads(path.read_text())[index]
    game_file = path.parent / "game.tw-pddl"
    env = gym.make("SPA-ALFWorld-v0", game_files=[game_file], max_episode_steps=walk["max_episode_steps"])
    obs, info = env.reset(options={"game_file": game_file})
    assert obs == walk["initial_observation"]
    assert sorted(info["admissible_actions"]) == walk["initial_admissible"]
    assert info["grammar"] == walk["grammar"]
    assert info["task"] == walk["goal"]
    for number, step in enumerate(walk["steps"], start=1):
        obs, reward, terminated, truncated, info = env.step(step["action"])
        where = f"step {number} ({step['action']!r})"
        assert obs == step["observation"], where
        assert reward == step["reward"], where
        assert (terminated or truncated) == step["done"], where
        assert info["won"] == step["won"], where
        assert sorted(info["admissible_actions"]) == step["admissible"], where
