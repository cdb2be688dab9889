"""WebShop's pages as text, rendered directly (no Flask, no HTML, no bs4).

The original renders Jinja templates to HTML and turns the HTML into text: in mode ``"text"``
every visible text node, stripped, joined with ``" [SEP] "``; in mode ``"text_rich"`` one node a
line, buttons as ``[button] X [button_]``, option values whose ``"value"`` (quoted) occurs in the
page URL and product links already visited as ``[clicked button] X [clicked button_]``, and one
``You have clicked X.`` line prepended (so in reverse page order) per marked option value.

Each renderer here lists the page's text nodes in the templates' order, with the templates' own
whitespace, and serialises them the way the original does. BeautifulSoup's rule for dynamic text
is kept: an empty value makes no node; a value of ASCII whitespace only becomes ``"\\n"`` (dropped)
when it holds a newline and ``" "`` (an empty ``[SEP]`` segment) otherwise.

A page comes back as ``(observation, available_actions)``, where ``available_actions`` is the
original's ``{"has_search_bar": bool, "clickables": [...]}``: buttons in page order, then product
links, then option values, all lower-cased, each once (first position kept).

Not verified against the original (no recording shows them): the whitespace around a non-empty
Description in ``text_rich`` (rendered as the bare text, like the other single-value nodes), and
the done page's option JSON with several keys or special characters (rendered as Flask's
``tojson`` does: sorted keys, ASCII, ``<>&'`` escaped). The Reviews page is always empty, as the
original loader always leaves ``Reviews`` empty.

Example:
    >>> product = {"asin": "B000000001", "Title": "Acme Shoe", "Price": "$9.5", "Rating": "N.A.",
    ...            "options": {"size": ["8", "9"]}, "Description": "", "BulletPoints": []}
    >>> obs, actions = render_page("results", instruction_text="i need shoes", ranking=["B000000001"],
    ...                            products={"B000000001": product}, results_page=1)
    >>> obs
    'Instruction: [SEP] i need shoes [SEP] Back to Search [SEP] Page 1 (Total results: 1) [SEP] Next > [SEP] B000000001 [SEP] Acme Shoe [SEP] $9.5'
    >>> actions
    {'has_search_bar': False, 'clickables': ['back to search', 'next >', 'b000000001']}
"""  # noqa: E501 (doctest expected output: one observation string)

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

#: Observation modes rendered exactly.
MODES: tuple[str, ...] = ("text", "text_rich")
#: Item sub-pages, by the clickable that opens them.
SUB_PAGES: tuple[str, ...] = ("description", "features", "reviews", "attributes")
#: Every page kind.
PAGES: tuple[str, ...] = ("search", "results", "item", *SUB_PAGES, "done")
#: Products per results page, and how many search hits the results list keeps.
RESULTS_PER_PAGE = 10
SEARCH_RETURN_N = 50

BACK_TO_SEARCH = "Back to Search"
PREV_PAGE = "< Prev"
NEXT_PAGE = "Next >"
BUY_NOW = "Buy Now"
_SUB_PAGE_BUTTONS = ("Description", "Features", "Reviews")

_TEXT, _BUTTON, _LABEL, _LINK = range(4)
#: One text node: (kind, text as in the HTML, marked as clicked in text_rich).
_Node = tuple[int, str, bool]
_ASCII_WHITESPACE = " \t\n\r\f"

PageView = tuple[str, dict[str, Any]]


def render_search(instruction_text: str, *, mode: str = "text") -> PageView:
    """The home page: instruction and search bar.

    Example:
        >>> render_search("find a lamp")
        ('WebShop [SEP] Instruction: [SEP] find a lamp [SEP] Search', {'has_search_bar': True, 'clickables': ['search']})
    """  # noqa: E501 (doctest expected output)
    nodes = [(_TEXT, "WebShop", False), (_TEXT, "Instruction: ", False), (_TEXT, instruction_text, False),
             (_BUTTON, "Search", False)]
    return _serialise(nodes, mode), _actions(["search"], has_search_bar=True)


def render_results(
    instruction_text: str,
    ranking: Sequence[str],
    products: Mapping[str, Mapping[str, Any]],
    page: int,
    *,
    visited_asins: Collection[str] = (),
    next_always_shown: bool = True,
    mode: str = "text",
) -> PageView:
    """Page ``page`` (1-based) of the results: ``ranking[(page-1)*10 : page*10]`` with asin, title, price.

    ``ranking`` is the whole list of hits (its length is the total shown). The original shows
    "Next >" on every results page, even past the last hit (``next_always_shown=True``); with
    False it shows it only while later hits exist. "< Prev" appears from page 2 on.

    Example:
        >>> render_results("i need x", [], {}, 1)[0]
        'Instruction: [SEP] i need x [SEP] Back to Search [SEP] Page 1 (Total results: 0) [SEP] Next >'
    """
    shown = ranking[(page - 1) * RESULTS_PER_PAGE : page * RESULTS_PER_PAGE] if page >= 1 else ()
    nodes: list[_Node] = [*_header("Instruction:", instruction_text)]
    nodes.append((_TEXT, f"Page {page} (Total results: {len(ranking)})", False))
    clickables = ["back to search"]
    if page > 1:
        nodes.append((_BUTTON, PREV_PAGE, False))
        clickables.append("< prev")
    if next_always_shown or page * RESULTS_PER_PAGE < len(ranking):
        nodes.append((_BUTTON, NEXT_PAGE, False))
        clickables.append("next >")
    for asin in shown:
        product = products.get(asin)
        if product is None:
            raise ValueError(f"ranking names asin {asin!r} on page {page}, but products has no such product")
        nodes.append((_LINK, asin, asin in visited_asins))
        nodes.append((_TEXT, _field(product, "Title"), False))
        nodes.append((_TEXT, _field(product, "Price"), False))
        clickables.append(asin.lower())
    return _serialise(nodes, mode), _actions(clickables)


def render_item(
    instruction_text: str,
    product: Mapping[str, Any],
    options: Mapping[str, str],
    *,
    keywords: Sequence[str] = (),
    results_page: int = 1,
    show_attrs: bool = False,
    mode: str = "text",
) -> PageView:
    """A product: option groups, title, price, rating, sub-page buttons (+ Attributes with ``show_attrs``), Buy Now.

    ``options`` (option name -> chosen value), ``keywords`` and ``results_page`` only matter in
    ``text_rich``: they make up the page URL, and every option value whose quoted text occurs in
    it is marked clicked (so a value chosen under one option name is marked under all of them).

    Example:
        >>> p = {"Title": "Lamp", "Price": "$5.0", "Rating": "N.A.", "options": {"color": ["red", "blue"]}}
        >>> obs, actions = render_item("find a lamp", p, {"color": "red"}, mode="text_rich")
        >>> print(obs)
        You have clicked red.
        Instruction:
        find a lamp
        [button] Back to Search [button_]
        [button] < Prev [button_]
        color
          [clicked button] red [clicked button_]
          [button] blue [button_]
        Lamp
        Price: $5.0
        Rating: N.A.
        [button] Description [button_]
        [button] Features [button_]
        [button] Reviews [button_]
        [button] Buy Now [button_]
        <BLANKLINE>
        >>> actions["clickables"]
        ['back to search', '< prev', 'description', 'features', 'reviews', 'buy now', 'red', 'blue']
    """
    url = item_url(product.get("asin", ""), keywords, results_page, options) if mode == "text_rich" else ""
    nodes: list[_Node] = [*_header("Instruction:", instruction_text), (_BUTTON, PREV_PAGE, False)]
    option_keys: list[str] = []
    for name, values in _options(product).items():
        nodes.append((_TEXT, name, False))
        for value in values:
            nodes.append((_LABEL, value, bool(url) and f'"{value}"' in url))
            option_keys.append(value.lower())
    nodes.append((_TEXT, _field(product, "Title"), False))
    nodes.append((_TEXT, f"Price: {_field(product, 'Price')}", False))
    nodes.append((_TEXT, f"Rating: {_field(product, 'Rating', 'N.A.')}", False))
    buttons = [*_SUB_PAGE_BUTTONS, "Attributes"] if show_attrs else list(_SUB_PAGE_BUTTONS)
    buttons.append(BUY_NOW)
    nodes.extend((_BUTTON, button, False) for button in buttons)
    clickables = ["back to search", "< prev", *(button.lower() for button in buttons), *option_keys]
    return _serialise(nodes, mode), _actions(clickables)


def render_sub_page(instruction_text: str, product: Mapping[str, Any], kind: str, *, mode: str = "text") -> PageView:
    """A product's Description, Features (bullet points), Reviews (always empty) or Attributes page.

    The Attributes page also shows the product's category, query and product category.

    Example:
        >>> render_sub_page("find a lamp", {"BulletPoints": ["Bright", "Warm"]}, "features")[0]
        'Instruction: [SEP] find a lamp [SEP] Back to Search [SEP] < Prev [SEP] Bright [SEP] Warm'
    """
    nodes: list[_Node] = [*_header("Instruction:", instruction_text), (_BUTTON, PREV_PAGE, False)]
    if kind == "description":
        nodes.append((_TEXT, _field(product, "Description"), False))
    elif kind == "features":
        nodes.extend((_TEXT, f" {bullet}", False) for bullet in _bullets(product))
    elif kind == "attributes":
        nodes.extend((_TEXT, f" {attribute}", False) for attribute in product.get("Attributes") or ())
        nodes.extend((_TEXT, _field(product, key), False) for key in ("category", "query", "product_category"))
    elif kind != "reviews":
        raise ValueError(f"unknown sub-page {kind!r}: expected one of {', '.join(SUB_PAGES)}")
    return _serialise(nodes, mode), _actions(["back to search", "< prev"])


def render_done(asin: str, options: Mapping[str, str], reward: float | None, *, mode: str = "text") -> PageView:
    """The page after Buy Now: the purchased asin and options and the score (goal fields blank, as the original).

    Example:
        >>> render_done("B000000001", {"size": "8"}, 1.0)[0].split(" [SEP] ")[4:9]
        ['Purchased', 'asin', 'B000000001', 'options', '{"size": "8"}']
    """
    nodes: list[_Node] = [
        (_TEXT, text, False)
        for text in (
            "Thank you for shopping with us!", "Your code: ", "None", " (Paste it in your MTurk interface.)",
            "Purchased", "asin", asin, "options", _tojson(options),
            "attrs", "None", "category", "None", "query", "None", "product category", "None",
            "Target", "asin", "options", "attrs", "price upper", "instuction text", "category",
            "product category", "query", "Goal ", "None",
            "Reward", "Your score (min 0.0, max 1.0)", str(reward), "Reward Details ", "None",
        )
    ]
    return _serialise(nodes, mode), _actions([])


def render_page(
    page: str,
    *,
    instruction_text: str = "",
    products: Mapping[str, Mapping[str, Any]] | None = None,
    ranking: Sequence[str] = (),
    results_page: int = 1,
    asin: str | None = None,
    options: Mapping[str, str] | None = None,
    keywords: Sequence[str] = (),
    visited_asins: Collection[str] = (),
    show_attrs: bool = False,
    reward: float | None = None,
    next_always_shown: bool = True,
    mode: str = "text",
) -> PageView:
    """Render any page from explicit state; ``products`` maps asin -> product (loader format).

    ``page`` is one of :data:`PAGES`; the item and sub-pages show ``products[asin]``; the results
    page shows the products of ``ranking`` on page ``results_page``.

    Example:
        >>> render_page("search", instruction_text="i need shoes", mode="text_rich")
        ('WebShop\\nInstruction: \\ni need shoes\\n[button] Search [button_]\\n', {'has_search_bar': True, 'clickables': ['search']})
    """  # noqa: E501 (doctest expected output)
    if mode not in MODES:
        raise ValueError(f"unknown observation mode {mode!r}: expected one of {', '.join(MODES)}")
    products = products or {}
    options = options or {}
    if page == "search":
        return render_search(instruction_text, mode=mode)
    if page == "results":
        return render_results(instruction_text, ranking, products, results_page, visited_asins=visited_asins,
                            next_always_shown=next_always_shown, mode=mode)
    if page == "done":
        return render_done(asin or "", options, reward, mode=mode)
    if page not in PAGES:
        raise ValueError(f"unknown page {page!r}: expected one of {', '.join(PAGES)}")
    if asin not in products:
        raise ValueError(f"page {page!r} needs the asin of a product in products, got {asin!r}")
    if page == "item":
        return render_item(instruction_text, products[asin], options, keywords=keywords, results_page=results_page,
                         show_attrs=show_attrs, mode=mode)
    return render_sub_page(instruction_text, products[asin], page, mode=mode)


def item_url(asin: str, keywords: Sequence[str], page: int, options: Mapping[str, str]) -> str:
    """The part of the original's item-page URL that option values are looked up in (text_rich marks).

    Example:
        >>> item_url("B0", ["red", "lamp"], 2, {"color": "red"})
        '/item_page/B0/red+lamp/2/{"color": "red"}'
    """
    return f"/item_page/{asin}/{'+'.join(keywords)}/{page}/{json.dumps(dict(options))}"


def option_targets(product: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """Lower-cased option value -> (option name, value) it selects; a value under two names selects the later one.

    Example:
        >>> option_targets({"options": {"color": ["black", "red"], "style": ["black"]}})
        {'black': ('style', 'black'), 'red': ('color', 'red')}
    """
    targets: dict[str, tuple[str, str]] = {}
    for name, values in _options(product).items():
        for value in values:
            targets[value.lower()] = (name, value)
    return targets


def _header(instruction_label: str, instruction_text: str) -> Iterable[_Node]:
    return ((_TEXT, instruction_label, False), (_TEXT, instruction_text, False), (_BUTTON, BACK_TO_SEARCH, False))


def _field(product: Mapping[str, Any], key: str, default: str = "") -> str:
    value = product.get(key, default)
    return "" if value is None else str(value)


def _options(product: Mapping[str, Any]) -> Mapping[str, Sequence[str]]:
    return product.get("options") or {}


def _bullets(product: Mapping[str, Any]) -> Sequence[str]:
    bullets = product.get("BulletPoints") or ()
    return [bullets] if isinstance(bullets, str) else bullets


def _tojson(options: Mapping[str, str]) -> str:
    text = json.dumps(dict(options), sort_keys=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").replace("'", "\\u0027")


def _as_parsed(text: str) -> str | None:
    """A dynamic text as the HTML parser keeps it: None (no node), or whitespace-only collapsed."""
    if not text:
        return None
    if text.strip(_ASCII_WHITESPACE):
        return text
    return "\n" if "\n" in text else " "


def _serialise(nodes: Iterable[_Node], mode: str) -> str:
    if mode == "text":
        parts = []
        for _, raw, _ in nodes:
            text = _as_parsed(raw)
            if text is not None and text != "\n":
                parts.append(text.strip())
        return " [SEP] ".join(parts)
    if mode != "text_rich":
        raise ValueError(f"unknown observation mode {mode!r}: expected one of {', '.join(MODES)}")
    clicked: list[str] = []
    lines: list[str] = []
    for kind, raw, marked in nodes:
        text = _as_parsed(raw)
        if text is None or text == "\n":
            continue
        if kind == _BUTTON:
            lines.append(f"[button] {text} [button_]\n")
        elif kind == _LABEL:
            if marked:
                lines.append(f"  [clicked button] {text} [clicked button_]\n")
                clicked.append(f"You have clicked {text}.\n")
            else:
                lines.append(f"  [button] {text} [button_]\n")
        elif kind == _LINK:
            lines.append(f"\n[clicked button] {text} [clicked button_]\n" if marked
                         else f"\n[button] {text} [button_]\n")
        else:
            lines.append(f"{text}\n")
    return "".join(reversed(clicked)) + "".join(lines)


def _actions(clickables: Iterable[str], *, has_search_bar: bool = False) -> dict[str, Any]:
    return {"has_search_bar": has_search_bar, "clickables": list(dict.fromkeys(clickables))}
