"""Doctest collection: modules that serve an optional library are skipped where it is not installed."""

from __future__ import annotations

import importlib.util

#: module -> the library it serves
OPTIONAL = {"spa_gym/integrations/sb3.py": "sb3_contrib", "spa_gym/integrations/verifiers_env.py": "verifiers",
            "spa_gym/integrations/trl.py": "trl"}

collect_ignore = [module for module, library in OPTIONAL.items() if importlib.util.find_spec(library) is None]
