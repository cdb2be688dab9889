"""WebShop goals built as the original builds them, with seeded prices, and the versioned task suite.

**Prices** (:func:`product_prices`): a product's reward price is its single price, a uniform draw in its
``[lo, hi]`` range, or 100.0 when it has none, as WebShop's ``generate_product_prices``.

**Goals** (:func:`human_goals`, :func:`synthetic_goals`): as WebShop's ``get_human_goals`` /
``get_synthetic_goals``. Human: one goal per crowd instruction record with a non-empty
``instruction_attributes`` (``goal_options`` = the record's ``instruction_options``, a list; weight 1).
Synthetic: one goal per combination of the product's option values, option names sorted
(``goal_options`` a dict, instruction ``"<instruction> with color: x, and size: y"``; weight = mean over
its attributes of 1 / number of goals with that attribute). Both get ``price_upper``: of the multiples
of 10 (10..990) strictly above the price, the first four; with at least two, the larger of two drawn
without replacement, and the text ``", and price lower than <p>.00 dollars"``; otherwise 1000000 and no
text. Human instructions lose their leading and trailing periods first.

**Seeding, a documented fix.** WebShop draws the range prices and ``price_upper`` from Python's global
``random`` *unseeded*, so instruction prices change between runs (ETO#17). Here they come from
``random.Random(price_seed)``, drawn in the original's order (every range price in catalog order, then
the goals' ``price_upper`` in goal order). The goal list is then shuffled with ``random.Random(233)``,
as WebShop's ``SimServer`` does, so goal indices on real files match WebShop's (and ETO/SPA-RL's).

**Splits** (:class:`GoalSuite`, version :data:`SUITE_VERSION`): ``test`` (200 goals, as SPA-RL and ETO
evaluate), ``dev`` (200) and ``train`` (the rest), disjoint by target product: walking the shuffled
goals, an asin met for the first time joins ``test`` while test has room, then ``dev``, then ``train``;
a held-out split takes up to 5 goals of each of its asins (their other goals are left out of every
split, so no test product is ever a train target). Small catalogs get at most a quarter of their goals
in test and in dev, and at most a quarter of their target products in each. With the default 1,000
generated products and human goals: test 200, dev 200, train 545.
``all`` is every goal in shuffled order (task index = WebShop goal index). Task ids: ``"test-0007"``.

Example:
    >>> from spa_gym.envs.webshop.catalog import catalog_from_raw, generate_raw
    >>> catalog = catalog_from_raw(*generate_raw(200, seed=0), key="doc-goals")
    >>> suite = GoalSuite(catalog, "test")
    >>> suite.task_id(7), suite.index_of("test-0007")
    ('test-0007', 7)
    >>> goal = suite.goal(0)
    >>> (sorted(goal) == sorted(GOAL_KEYS),
    ...  goal["instruction_text"] == GoalSuite(catalog, "test").goal(0)["instruction_text"])
    (True, True)
"""

from __future__ import annotations

import itertools
import threading
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from random import Random
from typing import Any

from ..task_ids import SplitTaskIds
from .catalog import Catalog

SUITE_VERSION = "1"
"""Version of the split procedure (bumped if it changes)."""

PRICE_RANGE: tuple[float, ...] = tuple(10.0 * i for i in range(1, 100))
"""WebShop's price buckets: 10, 20, ..., 990."""

NO_PRICE_UPPER = 1000000
"""``price_upper`` when fewer than two buckets lie above the price (no price in the instruction)."""

GOAL_SHUFFLE_SEED = 233
"""WebShop shuffles its goal list with ``random.seed(233)``."""

DEFAULT_PRICE_SEED = 0
"""Seed of the price draws when none is given."""

SPLITS: tuple[str, ...] = ("train", "dev", "test", "all")
SPLIT_SIZES: dict[str, int] = {"test": 200, "dev": 200}
"""Goals in the held-out splits (capped at a quarter of all goals each)."""

HELD_OUT_PER_PRODUCT = 5
"""At most this many goals of one target product in ``test`` or ``dev`` (its other goals are left out)."""

GOAL_KEYS: tuple[str, ...] = (
    "asin", "category", "query", "name", "product_category", "instruction_text", "attributes", "price_upper",
    "goal_options", "weight",
)  # fmt: skip
"""Keys of a goal dict, in order."""


def product_prices(products: Sequence[Mapping[str, Any]], rng: Random) -> dict[str, float]:
    """asin -> the price the reward uses: the single price, a uniform draw in a range, or 100.0.

    >>> product_prices([{"asin": "a", "pricing": [5.0]}, {"asin": "b", "pricing": [1.0, 2.0]}], Random(0))
    {'a': 5.0, 'b': 1.8444218515250481}
    """
    prices = {}
    for product in products:
        pricing = product["pricing"]
        if not pricing:
            price = 100.0
        elif len(pricing) == 1:
            price = pricing[0]
        else:
            price = rng.uniform(*pricing[:2])
        prices[product["asin"]] = price
    return prices


def price_upper(price: float, rng: Random) -> tuple[float, str]:
    """``(price_upper, price text)`` for a product of that price.

    >>> price_upper(37.5, Random(1)), price_upper(985.0, Random(1))
    ((60.0, ', and price lower than 60.00 dollars'), (1000000, ''))
    """
    buckets = [p for p in PRICE_RANGE if p > price][:4]
    if len(buckets) < 2:
        return NO_PRICE_UPPER, ""
    _, upper = sorted(rng.sample(buckets, 2))
    return upper, f", and price lower than {upper:.2f} dollars"


def _goal(product: Mapping[str, Any], text: str, attributes: list[str], upper: float, options: Any) -> dict:
    return {
        "asin": product["asin"],
        "category": product["category"],
        "query": product["query"],
        "name": product["name"],
        "product_category": product["product_category"],
        "instruction_text": text,
        "attributes": attributes,
        "price_upper": upper,
        "goal_options": options,
        "weight": 1,
    }


def human_goals(catalog: Catalog, prices: Mapping[str, float], rng: Random) -> list[dict[str, Any]]:
    """One goal per human instruction record with attributes, in catalog then record order."""
    goals = []
    for product in catalog.products:
        for record in catalog.human_instructions.get(product["asin"], ()):
            attributes = record["instruction_attributes"]
            if not attributes:
                continue
            upper, price_text = price_upper(prices[product["asin"]], rng)
            text = record["instruction"].strip(".") + price_text
            goals.append(_goal(product, text, list(attributes), upper, list(record["instruction_options"])))
    return goals


def synthetic_goals(catalog: Catalog, prices: Mapping[str, float], rng: Random) -> list[dict[str, Any]]:
    """One goal per option combination of every product with a synthetic instruction."""
    goals = []
    counts: dict[str, int] = defaultdict(int)
    for product in catalog.products:
        found = catalog.synthetic_instructions.get(product["asin"])
        if found is None:
            continue
        instruction, attributes = found
        upper, price_text = price_upper(prices[product["asin"]], rng)
        options = product["options"]
        names = sorted(options)
        for combination in itertools.product(*(options[name] for name in names)):
            chosen = dict(zip(names, combination))
            option_text = ", and ".join(f"{k}: {v}" for k, v in chosen.items())
            option_text = f" with {option_text}" if option_text else ""
            goals.append(_goal(product, f"{instruction}{option_text}{price_text}", list(attributes), upper, chosen))
            for attribute in attributes:
                counts[attribute] += 1
    for goal in goals:
        goal["weight"] = sum(1.0 / counts[a] for a in goal["attributes"]) / len(goal["attributes"])
    return goals


@dataclass(frozen=True, eq=False)
class GoalSet:
    """Every goal of a catalog, shuffled as WebShop does, with the reward prices they were built on."""

    catalog: Catalog
    human: bool
    price_seed: int
    prices: dict[str, float]
    goals: list[dict[str, Any]]


_GOAL_SETS: dict[tuple[int, bool, int], GoalSet] = {}
_LOCK = threading.Lock()


def goal_set(catalog: Catalog, human: bool = True, price_seed: int = DEFAULT_PRICE_SEED) -> GoalSet:
    """The (shared, cached) goals of ``catalog``: human or synthetic, prices drawn from ``price_seed``.

    >>> from spa_gym.envs.webshop.catalog import catalog_from_raw, generate_raw
    >>> catalog = catalog_from_raw(*generate_raw(100, seed=0), key="doc-goal-set")
    >>> goals = goal_set(catalog, human=False)
    >>> goals is goal_set(catalog, human=False), type(goals.goals[0]["goal_options"]).__name__
    (True, 'dict')
    """
    key = (id(catalog), human, price_seed)
    with _LOCK:
        found = _GOAL_SETS.get(key)
        if found is None or found.catalog is not catalog:
            rng = Random(price_seed)
            prices = product_prices(catalog.products, rng)
            goals = (human_goals if human else synthetic_goals)(catalog, prices, rng)
            Random(GOAL_SHUFFLE_SEED).shuffle(goals)
            found = GoalSet(catalog, human, price_seed, prices, goals)
            _GOAL_SETS[key] = found
        return found


def split_indices(goals: Sequence[Mapping[str, Any]]) -> dict[str, list[int]]:
    """Goal indices of each split, disjoint by asin (see the module docstring).

    >>> splits = split_indices([{"asin": a} for a in "abcdefghij" * 6])
    >>> splits["test"], splits["dev"], len(splits["train"]), len(splits["all"])
    ([0, 1, 10, 11, 20, 21, 30, 31, 40, 41], [2, 3, 12, 13, 22, 23, 32, 33, 42, 43], 36, 60)
    """
    sizes = {name: min(size, len(goals) // 4) for name, size in SPLIT_SIZES.items()}
    totals: dict[str, int] = defaultdict(int)
    for goal in goals:
        totals[goal["asin"]] += 1
    reserved = dict.fromkeys(sizes, 0)
    members = dict.fromkeys(sizes, 0)
    most_members = len(totals) // 4
    owner: dict[str, str] = {}
    taken: dict[str, int] = defaultdict(int)
    splits: dict[str, list[int]] = {"test": [], "dev": [], "train": []}
    for index, goal in enumerate(goals):
        asin = goal["asin"]
        if asin not in owner:
            name = next((n for n in sizes if reserved[n] < sizes[n] and members[n] < most_members), "train")
            owner[asin] = name
            if name != "train":
                reserved[name] += min(HELD_OUT_PER_PRODUCT, totals[asin])
                members[name] += 1
        name = owner[asin]
        if name == "train":
            splits[name].append(index)
        elif taken[asin] < HELD_OUT_PER_PRODUCT and len(splits[name]) < sizes[name]:
            taken[asin] += 1
            splits[name].append(index)
    return {**splits, "all": list(range(len(goals)))}


class GoalSuite(SplitTaskIds):
    """One split of a catalog's goals: ``len``, stable task ids, goals and their WebShop goal indices."""

    def __init__(
        self, catalog: Catalog, split: str = "train", human: bool = True, price_seed: int = DEFAULT_PRICE_SEED
    ):
        if split not in SPLITS:
            raise ValueError(f"unknown WebShop split {split!r}; expected one of {SPLITS}")
        self.split = split
        self.goals = goal_set(catalog, human, price_seed)
        self._indices = _split_cache(self.goals)[split]

    def __len__(self) -> int:
        return len(self._indices)

    def goal_index(self, index: int) -> int:
        """The WebShop goal index (position in the shuffled goal list) of task ``index``."""
        self._check_index(index)
        return self._indices[index]

    def goal(self, index: int) -> dict[str, Any]:
        """The goal dict of task ``index`` (shared: do not modify it)."""
        return self.goals.goals[self.goal_index(index)]



_SPLITS: dict[int, tuple[GoalSet, dict[str, list[int]]]] = {}


def _split_cache(goals: GoalSet) -> dict[str, list[int]]:
    with _LOCK:
        found = _SPLITS.get(id(goals))
        if found is None or found[0] is not goals:
            found = (goals, split_indices(goals.goals))
            _SPLITS[id(goals)] = found
        return found[1]
