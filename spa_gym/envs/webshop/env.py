"""``SPA-WebShop-v0``: WebShop's shopping website as a Gymnasium text environment, offline.

By default the env plays goals of a generated catalog (:mod:`.catalog`, :mod:`.goals`); given the
real WebShop files (``data_dir=``), it plays those in the same engine. Pages, actions and
observations are the original text env's (:mod:`.session`), search is BM25 over the original's
index documents (:mod:`.search`) and the reward is the original's (:mod:`.reward`), computed at
"Buy Now" with the generated catalog's title nouns (real files: the reward's noun extractor).

Episode: the observation starts on the search page; ``search[...]`` and ``click[...]`` move
through results, items and sub-pages; ``click[buy now]`` ends it (``terminated``) with the purchase
score as reward (0 before), and ``won`` when the score is exactly 1.0. An invalid action leaves the
page unchanged, scores 0 and has ``grounded=False``. Steps after the purchase change nothing. The
step limit (10, as SPA-RL and ETO) comes from the registration's ``TimeLimit``.

Example:
    >>> env = WebShopEnv(split="test", num_products=100)
    >>> obs, info = env.reset(options={"task_index": 0})
    >>> obs.startswith("WebShop [SEP] Instruction: [SEP] "), info["page"], info["admissible_actions"]
    (True, 'search', ['search[<query>]'])
    >>> while not info["won"]:
    ...     obs, reward, terminated, truncated, info = env.step(env.expert_action())
    >>> reward, terminated, info["reward_info"]["r_type"]
    (1.0, True, 1.0)
"""

from __future__ import annotations

import os
from typing import Any

from ..base import TextEnv
from .catalog import DEFAULT_CATALOG_SEED, Catalog, generated_catalog, real_catalog, resolve_size
from .expert import WebShopExpert
from .goals import SPLITS, GoalSuite
from .reward import get_reward
from .search import SearchIndex
from .session import ShopSession

RESET_OPTIONS: tuple[str, ...] = ("task_id", "task_index")


class WebShopEnv(TextEnv):
    """WebShop: search the catalog, open products, choose options, buy what the instruction asks for.

    Args:
        split: ``"train"``, ``"dev"``, ``"test"`` (200 goals, as SPA-RL/ETO evaluate) or ``"all"``
            (every goal, task index = WebShop goal index); splits never share a target product.
        num_products: catalog size: an int or ``"tiny"`` (100), ``"small"`` (1,000), ``"medium"``
            (10,000), ``"large"`` (100,000). With ``data_dir``: the first ``num_products`` products of
            the real file (``None``: all; ``<= 1000`` reads the ``_1000`` files when present).
        seed: seed of the generated catalog.
        observation_mode: ``"text"`` (``[SEP]``-joined, what everybody uses) or ``"text_rich"``.
        data_dir: a folder with WebShop's ``items_shuffle*.json``, ``items_ins_v2*.json`` and
            (for human goals) ``items_human_ins.json``.
        render_mode: ``"ansi"`` or ``"human"``.
        human_goals: crowd-style instructions (SPA-RL, ETO) or the synthetic ones (AgentGym, verl-agent).
        price_seed: seed of the range-price and price-bound draws (the original leaves them
            unseeded); defaults to ``seed``.
        show_attrs, search_from_any_page, next_always_shown: page quirks, as :class:`.ShopSession`.
        fuzz_backend: ``"rapidfuzz"`` (thefuzz >= 0.20, as ETO/SPA-RL) or ``"difflib"`` (thefuzz 0.19).

    ``reset`` options: ``task_id`` (e.g. ``"test-0007"``) or ``task_index``; without them a goal of
    the split is drawn uniformly with the env's seeded RNG. ``info`` has the contract keys plus
    ``instruction``, ``goal_index`` (position in WebShop's shuffled goal list), ``page``,
    ``available_actions`` (``{"has_search_bar", "clickables"}``, as the original) and
    ``reward_info`` (the reward's verbose breakdown after the purchase, ``{}`` before).
    """

    has_expert = True

    def __init__(
        self,
        split: str = "train",
        num_products: int | str | None = 1000,
        seed: int = DEFAULT_CATALOG_SEED,
        observation_mode: str = "text",
        data_dir: str | os.PathLike[str] | None = None,
        render_mode: str | None = None,
        human_goals: bool = True,
        price_seed: int | None = None,
        show_attrs: bool = False,
        search_from_any_page: bool = True,
        next_always_shown: bool = True,
        fuzz_backend: str = "rapidfuzz",
    ):
        super().__init__(render_mode=render_mode)
        if split not in SPLITS:
            raise ValueError(f"unknown WebShop split {split!r}; expected one of {SPLITS}")
        if observation_mode not in ("text", "text_rich"):
            raise ValueError(f"observation_mode must be 'text' or 'text_rich', got {observation_mode!r}")
        if fuzz_backend not in ("rapidfuzz", "difflib"):
            raise ValueError(f"fuzz_backend must be 'rapidfuzz' or 'difflib', got {fuzz_backend!r}")
        if data_dir is not None:
            self.catalog: Catalog = real_catalog(data_dir, None if num_products is None else resolve_size(num_products))
        elif num_products is None:
            raise ValueError("num_products=None (every product) needs data_dir; give a size for a generated catalog")
        else:
            self.catalog = generated_catalog(num_products, seed)
        self.suite = GoalSuite(self.catalog, split, human_goals, seed if price_seed is None else price_seed)
        self.index = SearchIndex.shared(self.catalog.key, self.catalog.products)
        self.observation_mode = observation_mode
        self.session_flags = {
            "show_attrs": show_attrs,
            "search_from_any_page": search_from_any_page,
            "next_always_shown": next_always_shown,
        }
        self.fuzz_backend = fuzz_backend
        self.expert = WebShopExpert()
        self.session: ShopSession | None = None
        self.goal: dict[str, Any] = {}
        self.goal_index = -1
        self.reward_info: dict[str, Any] = {}
        self._reward = 0.0

    # -- tasks ------------------------------------------------------------------------------------
    def num_tasks(self) -> int:
        """How many goals the split has."""
        return len(self.suite)

    def task_ids(self) -> list[str]:
        """Every id ``reset(options={"task_id": ...})`` accepts."""
        return [self.suite.task_id(i) for i in range(len(self.suite))]

    def _select(self, options: dict[str, Any]) -> int:
        unknown = set(options) - set(RESET_OPTIONS)
        if unknown:
            raise ValueError(f"unknown reset options {sorted(unknown)}; use one of {', '.join(RESET_OPTIONS)}")
        if "task_id" in options:
            return self.suite.index_of(str(options["task_id"]))
        if "task_index" in options:
            index = int(options["task_index"])
            if not 0 <= index < len(self.suite):
                raise IndexError(f"task_index {index} out of range: this split has {len(self.suite)} goals")
            return index
        if not len(self.suite):
            raise ValueError(f"split {self.suite.split!r} of this catalog has no goals")
        return int(self.np_random.integers(len(self.suite)))

    # -- TextEnv hooks ----------------------------------------------------------------------------
    def _reset_task(self, options: dict[str, Any]) -> str:
        index = self._select(options)
        self.goal = self.suite.goal(index)
        self.goal_index = self.suite.goal_index(index)
        self.task_id = self.suite.task_id(index)
        self.task = self.goal["instruction_text"]
        self.reward_info = {}
        self._reward = 0.0
        self.session = ShopSession(
            self.task,
            self.catalog.by_asin,
            self.index,
            mode=self.observation_mode,
            reward_fn=self._purchase_reward,
            **self.session_flags,
        )
        return self.session.observation()

    def _purchase_reward(self, asin: str, options: dict[str, str]) -> float:
        nouns = self.catalog.title_nouns
        self._reward, self.reward_info = get_reward(
            self.catalog.by_asin[asin],
            self.goal,
            self.suite.goals.prices[asin],
            options,
            purchased_title_nouns=None if nouns is None else nouns[asin],
            goal_title_nouns=None if nouns is None else nouns[self.goal["asin"]],
            fuzz_backend=self.fuzz_backend,
        )
        return self._reward

    def _step_text(self, action: str) -> tuple[str, float, bool, bool]:
        session = self._require_session()
        if session.bought or not session.step(action):
            return session.observation(), 0.0, session.bought, False
        if session.bought:
            self.won = self._reward == 1.0
            return session.observation(), self._reward, True, True
        return session.observation(), 0.0, False, True

    def admissible_actions(self) -> list[str]:
        return self._require_session().admissible_actions()

    def _extra_info(self) -> dict[str, Any]:
        session = self._require_session()
        return {
            "instruction": self.task,
            "goal_index": self.goal_index,
            "page": session.page,
            "available_actions": session.available_actions(),
            "reward_info": dict(self.reward_info),
        }

    # -- extras -----------------------------------------------------------------------------------
    def expert_action(self) -> str | None:
        """The expert's next action from the current state (``None`` once bought)."""
        return self.expert.action(self._require_session(), self.goal)

    def _require_session(self) -> ShopSession:
        if self.session is None:
            raise RuntimeError("call reset() before step() or before asking for the state")
        return self.session
