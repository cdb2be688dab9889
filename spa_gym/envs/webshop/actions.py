"""WebShop's action strings: ``search[<text>]`` and ``click[<clickable>]``, parsed and matched as the original.

The original matches the regex ``(.+)\\[(.+)\\]`` at the start of the action: the name runs to the
last ``[`` that still has a ``]`` at least two characters later, the argument to the last ``]``
(text after it is ignored), and nothing may cross the first newline. :func:`parse_action` gives
the same result in linear time (the regex itself is quadratic on long bracket-filled strings).
The argument is lower-cased; names are compared exactly (``Search[x]`` is not a search).

A search is valid with any non-empty argument (whitespace counts). A click is valid when its
argument is one of the current page's clickables other than ``search``. Anything else is invalid,
and the original then changes nothing.

Example:
    >>> parse_action("click[Buy Now] now please")
    ('click', 'Buy Now')
    >>> page = {"has_search_bar": False, "clickables": ["back to search", "buy now"]}
    >>> match_action("click[Buy Now]", page)
    ('click', 'buy now')
    >>> match_action("click[search]", {"has_search_bar": True, "clickables": ["search"]}) is None
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def parse_action(action: str) -> tuple[str, str | None]:
    """``(name, argument)`` as the original's ``name[argument]`` regex finds them; ``(action, None)`` without a match.

    Example:
        >>> parse_action("search[red [big] lamp]")
        ('search[red ', 'big] lamp')
        >>> parse_action("search[]")
        ('search[]', None)
    """
    line = action.split("\n", 1)[0]
    close = line.rfind("]")
    open_ = line.rfind("[", 1, close - 1) if close >= 3 else -1
    if open_ < 1:
        return action, None
    return line[:open_], line[open_ + 1 : close]


def match_action(action: str, available_actions: Mapping[str, Any]) -> tuple[str, str] | None:
    """``("search", query)`` or ``("click", clickable)`` if the original would execute ``action``, else None.

    The query and the clickable come back lower-cased. A search matches on any page (the original
    never checks ``has_search_bar``); callers that want otherwise check it themselves.

    Example:
        >>> match_action("search[Red Lamp]", {"has_search_bar": False, "clickables": []})
        ('search', 'red lamp')
        >>> match_action("click[nothing here]", {"has_search_bar": False, "clickables": ["< prev"]}) is None
        True
    """
    name, arg = parse_action(action)
    if arg is None:
        return None
    arg = arg.lower()
    if name == "search":
        return ("search", arg)
    if name == "click" and arg != "search" and arg in available_actions["clickables"]:
        return ("click", arg)
    return None
