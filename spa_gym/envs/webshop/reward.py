"""WebShop's purchase reward, exactly as the original ``get_reward(..., verbose=True)`` computes it.

R = r_type * (n_att + n_opt + r_price) / (|goal attributes| + |goal options| + 1), where

* r_type (type match) starts at 1.0; it becomes 0.5 when none of query match (equal ``query``), category
  match (the two ``product_category`` breadcrumbs, split on ``›`` and stripped, share >= 2 distinct parts)
  and ``title_score > 0.2`` holds; then 0.1 when ``title_score < 0.1``; then 0.0 when ``title_score == 0``.
  title_score = |set(purchased nouns) & set(goal nouns)| / len(goal nouns) (repeats counted), 0.2 when
  the goal title has no noun; nouns are the lower-cased title nouns (see :mod:`.nouns`);
* n_att counts goal attributes with a purchased ``Attributes`` entry scoring ``token_set_ratio > 85``,
  else found as a substring of the lower-cased Title, the space-joined BulletPoints (a string is joined
  character by character, as in the original) or the Description;
* n_opt counts goal options with a chosen option value scoring ``token_set_ratio > 85`` after both went
  through :func:`normalize_color`; a synthetic goal's options (a dict) take part as ``(name, value)``
  tuples, whose ``str()`` is what gets compared;
* r_price is ``price <= goal["price_upper"]``.

Inputs the original would crash on (no goal attribute, ``price_upper <= 0``, missing keys, wrong types)
raise ``ValueError`` naming the field. Matching uses thefuzz >= 0.20 semantics by default
(``fuzz_backend="difflib"`` gives thefuzz 0.19's, the original pin; see :mod:`.fuzzy`).

Example:
    >>> product = {"name": "Acme Sofa", "Title": "Acme Sofa", "query": "sofas", "category": "garden",
    ...            "product_category": "Home › Furniture › Sofas", "Description": "", "BulletPoints": [],
    ...            "Attributes": ["wood frame", "easy assemble"]}
    >>> goal = {"name": "Acme Sofa", "query": "sofas", "product_category": "Home › Furniture › Sofas",
    ...         "attributes": ["wood frame"], "goal_options": ["dark grey"], "price_upper": 300.0}
    >>> reward, info = get_reward(product, goal, 250.0, {"color": "dark gray"},
    ...                           purchased_title_nouns=["Acme", "Sofa"], goal_title_nouns=["Acme", "Sofa"])
    >>> reward, info["r_option"], info["r_price"]
    (1.0, 1.0, True)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from numbers import Real
from typing import Any

from .fuzzy import FUZZ_BACKENDS, token_set_ratio
from .nouns import extractor_name, resolve_noun_extractor

FUZZ_THRESHOLD = 85
"""A fuzzy attribute/option match needs ``token_set_ratio`` strictly above this."""

COLOR_SET: tuple[str, ...] = tuple(
    """
    alabaster apricot aqua ash asphalt azure banana beige black blue blush bordeaux bronze brown
    burgundy camel camo caramel champagne charcoal cheetah chestnut chocolate christmas coffee cognac
    copper coral cranberry cream crystal dark denim eggplant elephant espresso fuchsia gold granite
    grape graphite grass gray green grey heather indigo ivory ivy khaki lavender lemon leopard light
    lilac lime magenta maroon mauve merlot midnight mint mocha multicolor mushroom mustard natural navy
    nude olive orange peach pewter pink plum purple rainbow red rose ruby rust sage salmon sand sapphire
    shadow shell silver slate smoke snow steel stone tan taupe teal tomato turquoise violet walnut wheat
    white wine yellow
    """.split()
)
"""WebShop's colour words, in the alphabetical order :func:`normalize_color` scans them."""

PRODUCT_KEYS: tuple[str, ...] = (
    "name",
    "query",
    "product_category",
    "Title",
    "BulletPoints",
    "Description",
    "Attributes",
)
"""Product-dict keys the reward reads (WebShop loader format)."""

GOAL_KEYS: tuple[str, ...] = ("name", "query", "product_category", "attributes", "goal_options", "price_upper")
"""Goal-dict keys the reward reads (WebShop goal format)."""


def normalize_color(value: str | tuple[str, ...]) -> str | tuple[str, ...]:
    """The first word of :data:`COLOR_SET` contained in ``value``, else ``value`` unchanged.

    For a string "contained" means substring, so non-colours hit too (``titanium`` and ``standard`` ->
    ``tan``); for a ``(name, value)`` tuple it means equal to an element.

    >>> normalize_color("dark blue"), normalize_color("stonewashed"), normalize_color("titanium")
    ('blue', 'ash', 'tan')
    >>> normalize_color(("color", "black")), normalize_color(("color", "navy blue"))
    ('black', ('color', 'navy blue'))
    """
    for color in COLOR_SET:
        if color in value:
            return color
    return value


def goal_option_items(goal_options: Mapping[str, str] | Sequence[str]) -> list[Any]:
    """The goal options as the original compares them: values (human goals) or ``(name, value)`` pairs
    (synthetic goals, given as a dict).

    >>> goal_option_items({"size": "large"}), goal_option_items(["large"])
    ([('size', 'large')], ['large'])
    """
    if isinstance(goal_options, Mapping):
        return list(goal_options.items())
    return list(goal_options)


@dataclass(frozen=True)
class TypeReward:
    """The parts of r_type."""

    r_type: float
    query_match: bool
    category_match: bool
    title_score: float


@dataclass(frozen=True)
class RewardBreakdown:
    """Everything :func:`reward_breakdown` computed.

    ``info`` is exactly the original's verbose dict; the rest are intermediate values. Title nouns are
    lower-cased; ``noun_backend`` is ``"given"`` (both lists passed in), the extractor's name (both
    extracted) or ``"given+<name>"`` (one of each).
    """

    reward: float
    info: dict[str, Any]
    num_attr_matches: int
    num_option_matches: int
    normalized_purchased_options: list[Any]
    normalized_goal_options: list[Any]
    purchased_title_nouns: list[str]
    goal_title_nouns: list[str]
    noun_backend: str
    fuzz_backend: str


def category_match(purchased_category: str, goal_category: str) -> bool:
    """Whether two ``›`` breadcrumbs share at least 2 distinct stripped parts.

    >>> category_match("a › a › b", "a › b › c"), category_match("a › b", "a › c")
    (True, False)
    """
    purchased = {part.strip() for part in purchased_category.split("›")}
    goal = {part.strip() for part in goal_category.split("›")}
    return len(purchased & goal) >= 2


def title_score(purchased_nouns: Sequence[str], goal_nouns: Sequence[str]) -> float:
    """Share of the goal's title nouns (repeats counted in the denominator) that the purchase has; 0.2 if none.

    >>> title_score(["sofa"], ["sofa", "sofa", "bed"]), title_score(["sofa"], [])
    (0.3333333333333333, 0.2)
    """
    if not goal_nouns:
        return 0.2
    return len(set(purchased_nouns) & set(goal_nouns)) / len(goal_nouns)


def type_reward(
    purchased_product: Mapping[str, Any],
    goal: Mapping[str, Any],
    purchased_title_nouns: Sequence[str],
    goal_title_nouns: Sequence[str],
) -> TypeReward:
    """r_type and its parts; nouns as extracted from the two ``name`` fields (lower-cased here).

    >>> p = {"query": "q", "product_category": "a › b"}
    >>> type_reward(p, {"query": "x", "product_category": "c › d"}, ["Sofa"], ["sofa", "bed", "frame"])
    TypeReward(r_type=1.0, query_match=False, category_match=False, title_score=0.3333333333333333)
    """
    query_match = purchased_product["query"] == goal["query"]
    categories = category_match(purchased_product["product_category"], goal["product_category"])
    score = title_score([n.lower() for n in purchased_title_nouns], [n.lower() for n in goal_title_nouns])
    r_type = 1.0
    if not (query_match or categories or score > 0.2):
        r_type = 0.5
    if score < 0.1:
        r_type = 0.1
    if score == 0:
        r_type = 0.0
    return TypeReward(r_type, query_match, categories, score)


def attribute_matches(
    purchased_product: Mapping[str, Any], goal_attributes: Sequence[str], fuzz_backend: str = "rapidfuzz"
) -> int:
    """How many goal attributes the product satisfies (fuzzy over ``Attributes``, then substring of its text).

    >>> p = {"Attributes": ["essential oils"], "Title": "Tea Tree Oil", "BulletPoints": [], "Description": ""}
    >>> attribute_matches(p, ["essential oil", "tea tree", "long lasting"])
    2
    """
    title = purchased_product["Title"].lower()
    bullets = " ".join(purchased_product["BulletPoints"]).lower()
    description = purchased_product["Description"].lower()
    attributes = purchased_product["Attributes"]
    return sum(
        any(token_set_ratio(have, wanted, fuzz_backend) > FUZZ_THRESHOLD for have in attributes)
        or wanted in title
        or wanted in bullets
        or wanted in description
        for wanted in goal_attributes
    )


def option_matches(
    normalized_purchased: Sequence[Any], normalized_goal: Sequence[Any], fuzz_backend: str = "rapidfuzz"
) -> int:
    """How many (normalised) goal options some (normalised) chosen option matches; no one-to-one pairing.

    >>> option_matches(["large", "blue"], [("size", "x-large"), "blue"]), option_matches(["m"], ["medium"])
    (2, 0)
    """
    return sum(
        any(token_set_ratio(have, wanted, fuzz_backend) > FUZZ_THRESHOLD for have in normalized_purchased)
        for wanted in normalized_goal
    )


def reward_breakdown(
    purchased_product: Mapping[str, Any],
    goal: Mapping[str, Any],
    price: float,
    options: Mapping[str, str],
    *,
    purchased_title_nouns: Sequence[str] | None = None,
    goal_title_nouns: Sequence[str] | None = None,
    fuzz_backend: str = "rapidfuzz",
    noun_extractor: str | Callable[[str], list[str]] | None = None,
) -> RewardBreakdown:
    """:func:`get_reward` with its intermediate values (matches, normalised options, nouns, backends).

    >>> product = {"name": "Tea Tree Oil", "Title": "Tea Tree Oil", "query": "oils", "Description": "",
    ...            "product_category": "Beauty › Oils", "BulletPoints": [], "Attributes": ["tea tree"]}
    >>> goal = {"name": "Tea Tree Oil", "query": "oils", "product_category": "Beauty › Oils",
    ...         "attributes": ["tea tree", "natural"], "goal_options": {"size": "large"}, "price_upper": 20.0}
    >>> b = reward_breakdown(product, goal, 25.0, {"size": "x-large"}, noun_extractor="heuristic")
    >>> b.reward, b.num_attr_matches, b.num_option_matches, b.normalized_goal_options, b.noun_backend
    (0.25, 1, 0, [('size', 'large')], 'heuristic')
    """
    _validate(purchased_product, goal, price, options, fuzz_backend)
    nouns_p, nouns_g, noun_backend = _title_nouns(
        purchased_product, goal, purchased_title_nouns, goal_title_nouns, noun_extractor
    )
    types = type_reward(purchased_product, goal, nouns_p, nouns_g)
    r_price = price <= goal["price_upper"]

    goal_attributes = goal["attributes"]
    num_attr = attribute_matches(purchased_product, goal_attributes, fuzz_backend)
    r_att = num_attr / len(goal_attributes)

    purchased_opts = [normalize_color(v) for v in options.values()]
    goal_opts = [normalize_color(o) for o in goal_option_items(goal["goal_options"])]
    num_opt = option_matches(purchased_opts, goal_opts, fuzz_backend)

    denominator = len(goal_attributes) + len(goal_opts) + 1
    reward = (num_attr + num_opt + r_price) / denominator
    reward *= types.r_type

    info: dict[str, Any] = {
        "r_type": types.r_type,
        "r_att": r_att,
        "w_att": len(goal_attributes) / denominator,
        "query_match": types.query_match,
        "category_match": types.category_match,
        "title_score": types.title_score,
    }
    if goal_opts:
        info["r_option"] = num_opt / len(goal_opts)
        info["w_option"] = len(goal_opts) / denominator
    info["r_price"] = r_price
    info["w_price"] = 1 / denominator
    return RewardBreakdown(
        reward=reward,
        info=info,
        num_attr_matches=num_attr,
        num_option_matches=num_opt,
        normalized_purchased_options=purchased_opts,
        normalized_goal_options=goal_opts,
        purchased_title_nouns=[n.lower() for n in nouns_p],
        goal_title_nouns=[n.lower() for n in nouns_g],
        noun_backend=noun_backend,
        fuzz_backend=fuzz_backend,
    )


def get_reward(
    purchased_product: Mapping[str, Any],
    goal: Mapping[str, Any],
    price: float,
    options: Mapping[str, str],
    *,
    purchased_title_nouns: Sequence[str] | None = None,
    goal_title_nouns: Sequence[str] | None = None,
    fuzz_backend: str = "rapidfuzz",
    noun_extractor: str | Callable[[str], list[str]] | None = None,
) -> tuple[float, dict[str, Any]]:
    """The reward of buying ``purchased_product`` at ``price`` with ``options`` for ``goal``, and the
    original's verbose info dict (``r_type, r_att, w_att, query_match, category_match, title_score``,
    ``r_option, w_option`` when the goal has options, ``r_price`` (bool), ``w_price``).

    Title nouns default to ``noun_extractor`` (a spec for :func:`.nouns.resolve_noun_extractor`) run on
    the ``name`` fields; ``fuzz_backend`` is ``"rapidfuzz"`` (thefuzz >= 0.20) or ``"difflib"`` (0.19).

    >>> product = {"name": "Acme Lamp", "Title": "Acme Lamp", "query": "lamps", "product_category": "Home › Lamps",
    ...            "Description": "", "BulletPoints": ["LED"], "Attributes": ["DUMMY_ATTR"]}
    >>> goal = {"name": "Acme Lamp", "query": "lamps", "product_category": "Home › Lamps",
    ...         "attributes": ["attr"], "goal_options": [], "price_upper": 10.0}
    >>> get_reward(product, goal, 5.0, {}, purchased_title_nouns=["Lamp"], goal_title_nouns=["Lamp"])[0]
    1.0
    >>> get_reward(product, goal, 5.0, {}, purchased_title_nouns=["Lamp"], goal_title_nouns=["Lamp"],
    ...            fuzz_backend="difflib")[0]
    0.5
    """
    result = reward_breakdown(
        purchased_product,
        goal,
        price,
        options,
        purchased_title_nouns=purchased_title_nouns,
        goal_title_nouns=goal_title_nouns,
        fuzz_backend=fuzz_backend,
        noun_extractor=noun_extractor,
    )
    return result.reward, result.info


def _title_nouns(
    purchased_product: Mapping[str, Any],
    goal: Mapping[str, Any],
    purchased_nouns: Sequence[str] | None,
    goal_nouns: Sequence[str] | None,
    noun_extractor: str | Callable[[str], list[str]] | None,
) -> tuple[list[str], list[str], str]:
    _check_nouns(purchased_nouns, "purchased_title_nouns")
    _check_nouns(goal_nouns, "goal_title_nouns")
    if purchased_nouns is not None and goal_nouns is not None:
        return list(purchased_nouns), list(goal_nouns), "given"
    extractor = resolve_noun_extractor(noun_extractor)
    name = extractor_name(extractor)
    backend = name if purchased_nouns is None and goal_nouns is None else f"given+{name}"
    if purchased_nouns is None:
        purchased_nouns = _extract(extractor, purchased_product["name"], "purchased_product")
    if goal_nouns is None:
        goal_nouns = _extract(extractor, goal["name"], "goal")
    return list(purchased_nouns), list(goal_nouns), backend


def _extract(extractor: Callable[[str], list[str]], title: str, owner: str) -> list[str]:
    nouns = list(extractor(title))
    _check_nouns(nouns, f"nouns extracted from {owner}['name'] by {extractor_name(extractor)}")
    return nouns


def _check_nouns(nouns: Sequence[str] | None, what: str) -> None:
    if nouns is None:
        return
    if isinstance(nouns, str) or not all(isinstance(n, str) for n in nouns):
        raise ValueError(f"{what} must be a list of strings, got {nouns!r}")


def _validate(
    product: Mapping[str, Any], goal: Mapping[str, Any], price: float, options: Mapping[str, str], fuzz_backend: str
) -> None:
    """Fail early, naming the field, on inputs the original would crash on or misread."""
    if fuzz_backend not in FUZZ_BACKENDS:
        raise ValueError(f"unknown fuzz_backend {fuzz_backend!r}; expected one of {', '.join(FUZZ_BACKENDS)}")
    for what, record, keys in (("purchased_product", product, PRODUCT_KEYS), ("goal", goal, GOAL_KEYS)):
        if not isinstance(record, Mapping):
            raise ValueError(f"{what} must be a dict, got {type(record).__name__}")
        missing = [key for key in keys if key not in record]
        if missing:
            raise ValueError(
                f"{what} is missing required key(s) {', '.join(map(repr, missing))}; "
                f"expected the keys {', '.join(keys)}"
            )
    for key in ("name", "query", "product_category", "Title", "Description"):
        _check_type(product, "purchased_product", key, str, "a string")
    if not isinstance(product["BulletPoints"], str):
        _check_str_list(product, "purchased_product", "BulletPoints")
    _check_str_list(product, "purchased_product", "Attributes")
    for key in ("name", "query", "product_category"):
        _check_type(goal, "goal", key, str, "a string")
    _check_str_list(goal, "goal", "attributes")
    if not goal["attributes"]:
        raise ValueError("goal['attributes'] is empty; WebShop goals have at least one attribute")
    goal_options = goal["goal_options"]
    if not isinstance(goal_options, Mapping):
        _check_str_list(goal, "goal", "goal_options")
    elif not all(isinstance(k, str) and isinstance(v, str) for k, v in goal_options.items()):
        raise ValueError(
            f"goal['goal_options'] as a dict must map option names to values (strings), got {goal_options!r}"
        )
    upper = goal["price_upper"]
    if not isinstance(upper, Real) or isinstance(upper, bool) or upper <= 0:
        raise ValueError(f"goal['price_upper'] must be a positive number, got {upper!r}")
    if not isinstance(price, Real) or isinstance(price, bool):
        raise ValueError(f"price must be a number, got {price!r}")
    if not isinstance(options, Mapping):
        raise ValueError(f"options must be a dict option name -> chosen value, got {type(options).__name__}")
    if not all(isinstance(v, str) for v in options.values()):
        raise ValueError(f"options must map option names to chosen values (strings), got {dict(options)!r}")


def _check_type(record: Mapping[str, Any], what: str, key: str, types: Any, expected: str) -> None:
    if not isinstance(record[key], types):
        raise ValueError(f"{what}[{key!r}] must be {expected}, got {type(record[key]).__name__}")


def _check_str_list(record: Mapping[str, Any], what: str, key: str) -> None:
    value = record[key]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{what}[{key!r}] must be a list of strings, got {value!r}")
