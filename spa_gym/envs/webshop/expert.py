"""An expert shopper for WebShop: the next action towards buying the goal product with the goal's options.

From any state of a :class:`.session.ShopSession` (home, results of any search and page, any item or
sub-page, options chosen wrongly), :meth:`WebShopExpert.action` returns the first action of the
shortest of two routes to the goal product's item page: through the current results (back from an
item or sub-page with ``< prev``, then ``next >`` / ``< prev`` to the right page), or through a new
search (with ``back to search`` first when searching from this page is switched off). On the goal
product's page it chooses each goal option still unset, then buys.

The query is the first of these that ranks the goal product on the first results page: the
instruction without its price clause, the same without its options, the product's title
(lower-cased); failing that, whichever ranks it best. The instruction-based queries come first so
that demonstrations can be imitated from the observation alone.

Goal options map to the product's option values: exactly (generated goals), else by the reward's
own test (``token_set_ratio > 85`` after colour normalisation); when several goal options land under
one option name, the last wins (only one value can be chosen per name).

Example:
    >>> from spa_gym.envs.webshop.session import ShopSession
    >>> lamp = {"asin": "B000000001", "Title": "Acme Lamp", "Price": "$5.0", "Rating": "N.A.",
    ...         "options": {"color": ["red", "blue"]}, "Description": "", "BulletPoints": []}
    >>> session = ShopSession("i need a blue lamp", {"B000000001": lamp}, lambda query: ["B000000001"])
    >>> goal = {"asin": "B000000001", "instruction_text": "i need a blue lamp", "goal_options": ["blue"]}
    >>> expert = WebShopExpert()
    >>> actions = []
    >>> while (action := expert.action(session, goal)) is not None:
    ...     actions.append(action)
    ...     assert session.step(action)
    >>> actions
    ['search[i need a blue lamp]', 'click[b000000001]', 'click[blue]', 'click[buy now]']
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from .fuzzy import token_set_ratio
from .pages import RESULTS_PER_PAGE, SEARCH_RETURN_N, SUB_PAGES
from .reward import goal_option_items, normalize_color
from .session import ShopSession

_PRICE_CLAUSE = re.compile(r",? and price lower than [\d.]+ dollars\s*$")
_SYNTHETIC_OPTIONS = re.compile(r" with (?:(?! with )[^:,])+: .*$")
_HUMAN_OPTIONS = re.compile(r" in [^,]*(, [^,]*)*$")
_UNSAFE = re.compile(r"[\[\]\n\r]+")


def query_candidates(goal: Mapping[str, Any], product: Mapping[str, Any]) -> list[str]:
    """Search queries to try, in order: the instruction without price, without options, the title.

    >>> text = "Find me sofas with wood frame with color: grey, and price lower than 90.00 dollars"
    >>> query_candidates({"instruction_text": text, "goal_options": {"color": "grey"}}, {"Title": "Acme Sofa"})
    ['find me sofas with wood frame with color: grey', 'find me sofas with wood frame', 'acme sofa']
    """
    text = _PRICE_CLAUSE.sub("", goal["instruction_text"]).strip(" .")
    pattern = _SYNTHETIC_OPTIONS if isinstance(goal.get("goal_options"), Mapping) else _HUMAN_OPTIONS
    bare = pattern.sub("", text).strip(" .")
    candidates = []
    for query in (text, bare, product.get("Title", "")):
        query = " ".join(_UNSAFE.sub(" ", query).lower().split())
        if query and query not in candidates:
            candidates.append(query)
    return candidates


def option_clicks(goal: Mapping[str, Any], product: Mapping[str, Any]) -> dict[str, str]:
    """Option name -> value to choose so that the goal's options match (unmatchable goal options skipped).

    >>> product = {"options": {"color": ["navy blue", "white"], "size": ["9.5", "10"]}}
    >>> (option_clicks({"goal_options": ["white", "9.5"]}, product),
    ...  option_clicks({"goal_options": {"size": "10"}}, product))
    ({'color': 'white', 'size': '9.5'}, {'size': '10'})
    """
    options: Mapping[str, Sequence[str]] = product.get("options") or {}
    wanted = goal.get("goal_options") or []
    chosen: dict[str, str] = {}
    if isinstance(wanted, Mapping):
        for name, value in wanted.items():
            if value in options.get(name, ()):
                chosen[name] = value
        return chosen
    for item in goal_option_items(wanted):
        match = _exact(options, item) or _fuzzy(options, item)
        if match is not None:
            chosen[match[0]] = match[1]
    return chosen


def _exact(options: Mapping[str, Sequence[str]], wanted: str) -> tuple[str, str] | None:
    for name, values in options.items():
        if wanted in values:
            return name, wanted
    return None


def _fuzzy(options: Mapping[str, Sequence[str]], wanted: str) -> tuple[str, str] | None:
    target = normalize_color(wanted)
    for name, values in options.items():
        for value in values:
            if token_set_ratio(normalize_color(value), target) > 85:
                return name, value
    return None


class WebShopExpert:
    """Knows the goal (target asin, options) and the search engine; keeps each goal's chosen query.

    Args:
        cache_size: how many goals' query choices to remember (they cost a few searches each).
    """

    def __init__(self, cache_size: int = 4096):
        self.cache_size = cache_size
        self._queries: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {}

    def query(self, session: ShopSession, goal: Mapping[str, Any]) -> tuple[str, tuple[str, ...]]:
        """The query the expert searches for ``goal`` and its ranking (asins the session keeps)."""
        key = (goal["asin"], goal["instruction_text"])
        found = self._queries.get(key)
        if found is None:
            found = self._choose_query(session, goal)
            if len(self._queries) >= self.cache_size:
                self._queries.clear()
            self._queries[key] = found
        return found

    def _choose_query(self, session: ShopSession, goal: Mapping[str, Any]) -> tuple[str, tuple[str, ...]]:
        target = goal["asin"]
        best: tuple[int, str, tuple[str, ...]] | None = None
        for query in query_candidates(goal, session.products[target]):
            ranking = _ranking(session, query)
            rank = ranking.index(target) if target in ranking else SEARCH_RETURN_N
            if rank < RESULTS_PER_PAGE:
                return query, ranking
            if best is None or rank < best[0]:
                best = (rank, query, ranking)
        assert best is not None
        return best[1], best[2]

    def action(self, session: ShopSession, goal: Mapping[str, Any]) -> str | None:
        """The next action, or None once bought (or if the goal product is not in the session's catalog)."""
        target = goal["asin"]
        if session.bought or session.page == "done" or target not in session.products:
            return None
        product = session.products[target]
        if session.asin == target and session.page == "item":
            for name, value in option_clicks(goal, product).items():
                if session.options.get(name) != value:
                    return f"click[{value.lower()}]"
            return "click[buy now]"
        if session.asin == target and session.page in SUB_PAGES:
            return "click[< prev]"
        query, ranking = self.query(session, goal)
        via_search = _search_cost(session, ranking, target)
        via_results = _results_cost(session, target)
        if via_results is not None and via_results <= via_search:
            return _towards_results_page(session, target)
        if session.page != "search" and not session.search_from_any_page:
            return "click[back to search]"
        return f"search[{query}]"


def _ranking(session: ShopSession, query: str) -> tuple[str, ...]:
    """The asins a results page would list for ``query`` (as :class:`ShopSession` filters them)."""
    keywords = query.split(" ")
    hits = session.search(" ".join(keywords))[:SEARCH_RETURN_N]
    return tuple(asin for asin in hits if asin in session.products)


def _target_page(ranking: Sequence[str], target: str) -> int | None:
    return ranking.index(target) // RESULTS_PER_PAGE + 1 if target in ranking else None


def _search_cost(session: ShopSession, ranking: Sequence[str], target: str) -> int:
    """Steps to the goal's item page through a new search (a big number if the search misses it)."""
    page = _target_page(ranking, target)
    if page is None:
        return 1 << 30
    back = 0 if session.page == "search" or session.search_from_any_page else 1
    return back + 1 + (page - 1) + 1


def _results_cost(session: ShopSession, target: str) -> int | None:
    """Steps to the goal's item page through the current results, or None if they do not list it."""
    page = _target_page(session.ranking, target)
    if page is None or session.page in ("search", "done"):
        return None
    back = {"results": 0, "item": 1}.get(session.page, 2)
    return back + abs(page - (session.results_page or 1)) + 1


def _towards_results_page(session: ShopSession, target: str) -> str:
    if session.page != "results":
        return "click[< prev]"
    page = _target_page(session.ranking, target)
    assert page is not None
    current = session.results_page or 1
    if current < page:
        return "click[next >]"
    if current > page:
        return "click[< prev]"
    return f"click[{target.lower()}]"
