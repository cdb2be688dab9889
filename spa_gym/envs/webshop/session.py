"""One shopper's walk through WebShop: the page-state machine of the original text env.

Pages: ``search`` (home) -> ``results`` (10 of the top-50 hits a page) -> ``item`` (options,
sub-page buttons, Buy Now) -> ``description``/``features``/``reviews``/``attributes`` -> ``done``.
Transitions as the original:

* ``search[x]`` opens results page 1 for ``x`` (lower-cased, split on spaces), from any page,
  search bar or not; it drops the chosen asin and options and keeps the visited set.
* an asin on a results page opens its item page with no options chosen and marks it visited;
  an option value chooses it (a value under two option names chooses the later one; an option
  value equal to a button label takes the button's place, as the original's clickable map does).
* ``< prev``: results page p -> p-1; item -> its results page; sub-page -> the item, options kept.
* ``next >`` (results only) -> next page, even past the last hit; ``back to search`` -> home,
  forgetting keywords, page, asin, options and the visited set.
* ``buy now`` -> done page, ``bought`` set. The reward shown there comes from ``reward_fn``
  (or is set on :attr:`ShopSession.reward` afterwards).

An invalid action changes nothing and :meth:`ShopSession.step` returns False. Original quirks
are on by default and can be switched off: ``search_from_any_page`` (False: search only from the
search page) and ``next_always_shown`` (False: "Next >" only while later hits exist). The
original's debug search prefixes (``<r>``, ``<c>``, ...) are not reproduced: queries go to
``search`` as typed.

Example:
    >>> product = {"asin": "B000000001", "Title": "Acme Lamp", "Price": "$5.0", "Rating": "N.A.",
    ...            "options": {"color": ["red", "blue"]}, "Description": "", "BulletPoints": ["Bright"]}
    >>> session = ShopSession("i need a red lamp", {"B000000001": product}, lambda query: ["B000000001"])
    >>> session.step("search[Red Lamp]"), session.page, session.keywords
    (True, 'results', ['red', 'lamp'])
    >>> session.step("click[B000000001]"), session.step("click[red]"), session.options
    (True, True, {'color': 'red'})
    >>> session.step("click[next >]")  # not on an item page
    False
    >>> session.admissible_actions()
    ['click[back to search]', 'click[< prev]', 'click[description]', 'click[features]', 'click[reviews]', 'click[buy now]', 'click[red]', 'click[blue]']
    >>> session.step("click[buy now]"), session.bought, session.purchased_asin, session.purchased_options
    (True, True, 'B000000001', {'color': 'red'})
"""  # noqa: E501 (doctest expected output: the admissible actions list)

from __future__ import annotations

import copy as _copy
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from . import pages
from .actions import match_action

#: The placeholder :meth:`ShopSession.admissible_actions` lists when the search bar is shown.
SEARCH_PLACEHOLDER = "search[<query>]"

RewardFn = Callable[[str, dict[str, str]], float]


class ShopSession:
    """The state of one WebShop episode and its text observation.

    Args:
        instruction_text: the goal's instruction, shown on every page.
        products: asin -> product dict in the original loader's format.
        search: query -> ranked asins (the first 50 are kept, asins not in ``products`` dropped).
        mode: ``"text"`` or ``"text_rich"`` observations.
        show_attrs: show the Attributes button and sub-page (the original's ``show_attrs``).
        search_from_any_page: the original accepts ``search[...]`` on every page (quirk, default).
        next_always_shown: the original shows "Next >" on every results page (quirk, default).
        reward_fn: ``(asin, options) -> score`` called at Buy Now; the done page shows the score.
    """

    def __init__(
        self,
        instruction_text: str,
        products: Mapping[str, Mapping[str, Any]],
        search: Callable[[str], Sequence[str]],
        *,
        mode: str = "text",
        show_attrs: bool = False,
        search_from_any_page: bool = True,
        next_always_shown: bool = True,
        reward_fn: RewardFn | None = None,
    ) -> None:
        if mode not in pages.MODES:
            raise ValueError(f"unknown observation mode {mode!r}: expected one of {', '.join(pages.MODES)}")
        self.instruction_text = instruction_text
        self.products = products
        self.search = search
        self.mode = mode
        self.show_attrs = show_attrs
        self.search_from_any_page = search_from_any_page
        self.next_always_shown = next_always_shown
        self.reward_fn = reward_fn
        self.page = "search"
        self.keywords: list[str] | None = None
        self.results_page: int | None = None
        self.ranking: tuple[str, ...] = ()
        self.asin: str | None = None
        self.options: dict[str, str] = {}
        self.visited_asins: set[str] = set()
        self.bought = False
        self.purchased_asin: str | None = None
        self.purchased_options: dict[str, str] = {}
        self._reward: float | None = None
        self._view: pages.PageView | None = None

    @property
    def reward(self) -> float | None:
        """The score the done page shows (None before a purchase)."""
        return self._reward

    @reward.setter
    def reward(self, value: float | None) -> None:
        self._reward = value
        self._view = None

    def observation(self) -> str:
        """The current page as the original's text env shows it."""
        return self._current()[0]

    def available_actions(self) -> dict[str, Any]:
        """``{"has_search_bar": bool, "clickables": [...]}`` of the current page, as the original."""
        view = self._current()[1]
        return {"has_search_bar": view["has_search_bar"], "clickables": list(view["clickables"])}

    def admissible_actions(self) -> list[str]:
        """Every action that would be executed: the search placeholder if the search bar is shown, then the clicks.

        ``click[search]`` is left out: the original refuses it.
        """
        view = self._current()[1]
        actions = [SEARCH_PLACEHOLDER] if view["has_search_bar"] else []
        actions.extend(f"click[{clickable}]" for clickable in view["clickables"] if clickable != "search")
        return actions

    def step(self, action: str) -> bool:
        """Apply ``action``; True if the original would execute it (else nothing changes)."""
        if not isinstance(action, str):
            raise TypeError("a WebShop action must be a str like 'search[...]' or 'click[...]', "
                            f"got {type(action).__name__}")
        view = self._current()[1]
        matched = match_action(action, view)
        if matched is None:
            return False
        kind, arg = matched
        if kind == "search":
            if not (self.search_from_any_page or view["has_search_bar"]):
                return False
            self._search(arg)
        else:
            self._click(arg)
        self._view = None
        return True

    def copy(self) -> ShopSession:
        """An independent copy of the state (products and search function shared)."""
        clone = _copy.copy(self)
        clone.options = dict(self.options)
        clone.visited_asins = set(self.visited_asins)
        clone.purchased_options = dict(self.purchased_options)
        clone.keywords = None if self.keywords is None else list(self.keywords)
        return clone

    def _search(self, query: str) -> None:
        keywords = query.split(" ")
        hits = self.search(" ".join(keywords))[: pages.SEARCH_RETURN_N]
        self.ranking = tuple(asin for asin in hits if asin in self.products)
        self.page, self.keywords, self.results_page = "results", keywords, 1
        self.asin, self.options = None, {}

    def _click(self, clickable: str) -> None:
        page = self.page
        if page == "item":
            target = pages.option_targets(self.products[self.asin]).get(clickable)
            if target is not None:
                self.options[target[0]] = target[1]
                return
        if clickable == "back to search":
            self.page, self.keywords, self.results_page, self.ranking = "search", None, None, ()
            self.asin, self.options = None, {}
            self.visited_asins = set()
        elif clickable == "next >":
            self.results_page += 1
        elif clickable == "< prev":
            if page == "results":
                self.results_page -= 1
            elif page == "item":
                self.page, self.asin, self.options = "results", None, {}
            else:
                self.page = "item"
        elif clickable == "buy now":
            if self.reward_fn is not None:
                self._reward = self.reward_fn(self.asin, dict(self.options))
            self.page, self.bought = "done", True
            self.purchased_asin, self.purchased_options = self.asin, dict(self.options)
        elif page == "item":
            self.page = clickable
        else:
            self._open_item(clickable)

    def _open_item(self, clickable: str) -> None:
        start = (self.results_page - 1) * pages.RESULTS_PER_PAGE
        window = self.ranking[start : start + pages.RESULTS_PER_PAGE]
        self.asin = next(asin for asin in window if asin.lower() == clickable)
        self.page, self.options = "item", {}
        self.visited_asins.add(self.asin)

    def _current(self) -> pages.PageView:
        if self._view is None:
            self._view = pages.render_page(
                self.page,
                instruction_text=self.instruction_text,
                products=self.products,
                ranking=self.ranking,
                results_page=self.results_page or 1,
                asin=self.asin if self.page != "done" else self.purchased_asin,
                options=self.options if self.page != "done" else self.purchased_options,
                keywords=self.keywords or (),
                visited_asins=self.visited_asins,
                show_attrs=self.show_attrs,
                reward=self._reward,
                next_always_shown=self.next_always_shown,
                mode=self.mode,
            )
        return self._view
