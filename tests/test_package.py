"""The top-level package: env ids on import, the public API lazily."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import spa_gym


def test_importing_spa_gym_registers_envs_without_loading_torch() -> None:
    code = "import sys, spa_gym, gymnasium as gym; gym.spec('SPA-WebShop-v0'); print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"


@pytest.mark.parametrize("name", sorted(spa_gym._LAZY))
def test_the_public_api_is_importable_from_the_top(name: str) -> None:
    assert getattr(spa_gym, name) is getattr(importlib.import_module(spa_gym._LAZY[name]), name)
    assert name in spa_gym.__all__ and name in dir(spa_gym)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="module 'spa_gym' has no attribute 'nope'"):
        spa_gym.nope  # noqa: B018
