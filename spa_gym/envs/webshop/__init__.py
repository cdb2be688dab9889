"""SPA-WebShop-v0: WebShop's shopping website as an offline text env, exact to the original.

Modules: :mod:`.catalog` (seeded catalog generator in the real files' schema, and the loader of
real or generated files), :mod:`.goals` (goals and splits as the original builds them),
:mod:`.search` (BM25 over the catalog, shared per process, cached on disk), :mod:`.pages` (the
page renderers, ``text`` and ``text_rich``), :mod:`.actions` (matching ``search[...]`` /
``click[...]``), :mod:`.session` (the page-state machine), :mod:`.reward` (the original
``get_reward``), :mod:`.fuzzy` and :mod:`.nouns` (its string matching and title nouns),
:mod:`.expert` (reaches reward 1.0 on every generated goal), :mod:`.env` (the Gymnasium env).
"""

from .catalog import Catalog, generated_catalog, load_raw_catalog, real_catalog
from .env import WebShopEnv
from .goals import GoalSuite
from .pages import render_page
from .reward import get_reward, reward_breakdown
from .search import SearchIndex
from .session import ShopSession

__all__ = [
    "Catalog",
    "GoalSuite",
    "SearchIndex",
    "ShopSession",
    "WebShopEnv",
    "generated_catalog",
    "get_reward",
    "load_raw_catalog",
    "real_catalog",
    "render_page",
    "reward_breakdown",
]
