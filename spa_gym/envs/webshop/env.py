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

import hashlib
import os
from collections.abc import Hashable
from typing import Any

from ..base import TextEnv
from .catalog import DEFAULT_CATALOG_SEED, Catalog, generated_catalog, real_catalog, resolve_size
from .expert import WebShopExpert
from .goals import SPLITS, GoalSuite
from .reward import get_reward
from .search import SearchIndex
from .session import ShopSession

RESET_OPTIONS: tuple[str, ...] = ("task_id", "task_index")
#: First field of what ``_episode_state`` returns, so that ``restore_state`` knows a WebShop episode.
_EPISODE_TAG = "spa-webshop-episode"


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

    ``info["state_key"]`` digests the task id and the page with what its future depends on: the page
    kind, the ranking of the last search (the engine keeps the hits, so two queries with the same hits
    are the same state), the results page number, the product and the chosen options (sorted); after
    the purchase, the asin and options bought. With ``observation_mode="text_rich"`` also the visited
    asins (marked in results) and, when they hold a ``"``, the search keywords (they are in the item
    page's URL, and every option value whose quoted text is in it shows as clicked); the plain text
    mode shows neither, so they are left out there.
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
        # what restore_state checks: the goal list a task index points into
        self._suite_id = (self.catalog.key, split, human_goals, seed if price_seed is None else price_seed)
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
        self._suite_index = -1
        self._state_cache: tuple[tuple, str] | None = None  # (world state, key), until a step changes it
        self._ranking_repr: tuple[tuple[str, ...] | None, str] = (None, "()")

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
        self._install_goal(index)
        self.reward_info = {}
        self._reward = 0.0
        self.session = self._new_session()
        return self.session.observation()

    def _install_goal(self, index: int) -> None:
        self._suite_index = index
        self.goal = self.suite.goal(index)
        self.goal_index = self.suite.goal_index(index)
        self.task_id = self.suite.task_id(index)
        self.task = self.goal["instruction_text"]
        self._state_cache = None

    def _new_session(self) -> ShopSession:
        """A session on the home page for the current goal."""
        return ShopSession(
            self.task,
            self.catalog.by_asin,
            self.index,
            mode=self.observation_mode,
            reward_fn=self._purchase_reward,
            **self.session_flags,
        )

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
        self._state_cache = None
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

    # -- states, for credit assignment ------------------------------------------------------------
    def _world_state(self) -> Hashable:
        """``(task id, page, ranking, results page, asin, options, text_rich extras)``, or ``(task id,
        "done", asin bought, options bought)``; see the class docstring. The text_rich extras are
        ``(keywords joined with "+" if they hold a quote else None, visited asins)``, ``()`` in text mode."""
        return self._state()[0]

    def state_key(self) -> str:
        # TextEnv.state_key's digest, kept until a step changes the page
        return self._state()[1]

    def _state(self) -> tuple[tuple, str]:
        if self._state_cache is None:
            session = self._require_session()
            if session.bought:
                world: tuple = (self.task_id, "done", session.purchased_asin,
                                tuple(sorted(session.purchased_options.items())))
                text = repr(world)
            else:
                ranking = session.ranking
                if self._ranking_repr[0] is not ranking:  # the ranking only changes with a search
                    self._ranking_repr = (ranking, repr(ranking))
                rich: tuple = ()
                if self.observation_mode == "text_rich":
                    # the keywords only show as option values marked clicked because their quoted text
                    # is in the item page's URL, where they are joined with "+": only if they hold a quote
                    url_keywords = "+".join(session.keywords or ())
                    rich = (url_keywords if '"' in url_keywords else None, tuple(sorted(session.visited_asins)))
                options = tuple(sorted(session.options.items())) if session.options else ()
                world = (self.task_id, session.page, ranking, session.results_page, session.asin, options, rich)
                text = (f"({self.task_id!r}, {session.page!r}, {self._ranking_repr[1]}, {session.results_page!r}, "
                        f"{session.asin!r}, {options!r}, {rich!r})")
            self._state_cache = (world, hashlib.blake2b(text.encode(), digest_size=16).hexdigest())
        return self._state_cache

    def _episode_state(self) -> tuple:
        session = self._require_session()
        return (_EPISODE_TAG, self._suite_id, self._suite_index, session.page, session.keywords,
                session.results_page, session.ranking, session.asin, session.options, session.visited_asins,
                session.bought, session.purchased_asin, session.purchased_options, session.reward,
                self.reward_info, self._reward)

    def _load_episode_state(self, state: Any) -> None:
        if not (isinstance(state, tuple) and len(state) == 16 and state[0] == _EPISODE_TAG):
            raise TypeError(f"restore_state takes a state that a WebShop env's clone_state returned, "
                            f"got an episode of {type(state).__name__}")
        (_, suite, index, page, keywords, results_page, ranking, asin, options, visited, bought, purchased_asin,
         purchased_options, shown_reward, reward_info, reward) = state
        if suite != self._suite_id:
            raise ValueError(f"this state is of another goal suite (catalog, split, human goals, price seed) "
                             f"{suite!r}, not this env's {self._suite_id!r}")
        self._install_goal(index)
        session = self._new_session()
        session.page, session.keywords, session.results_page, session.ranking = page, keywords, results_page, ranking
        session.asin, session.options, session.visited_asins = asin, options, visited
        session.bought, session.purchased_asin, session.purchased_options = bought, purchased_asin, purchased_options
        session.reward = shown_reward
        self.session = session
        self.reward_info, self._reward = reward_info, reward

    # -- extras -----------------------------------------------------------------------------------
    def expert_action(self) -> str | None:
        """The expert's next action from the current state (``None`` once bought)."""
        return self.expert.action(self._require_session(), self.goal)

    def _require_session(self) -> ShopSession:
        if self.session is None:
            raise RuntimeError("call reset() before step() or before asking for the state")
        return self.session
