"""WebShop reward: replay of the 150 cases scored by the original code, plus unit tests of its parts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spa_gym.envs.webshop.fuzzy import FUZZ_BACKENDS, full_process, token_set_ratio
from spa_gym.envs.webshop.nouns import (
    FUNCTION_WORDS,
    HeuristicNounExtractor,
    NounExtractor,
    SpacyNounExtractor,
    extractor_name,
    resolve_noun_extractor,
    spacy_available,
)
from spa_gym.envs.webshop.reward import (
    COLOR_SET,
    category_match,
    get_reward,
    goal_option_items,
    normalize_color,
    reward_breakdown,
    title_score,
    type_reward,
)

THEFUZZ_VERSION = {"rapidfuzz": "0.22.1", "difflib": "0.19.0"}


def _cases(webshop_fixtures: Path) -> list[dict]:
    with open(webshop_fixtures / "reward_cases.jsonl", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def _replay(case: dict, fuzz_backend: str = "rapidfuzz", score=reward_breakdown):
    """``score`` (:func:`reward_breakdown` or :func:`get_reward`) applied to a fixture case's inputs."""
    return score(
        case["purchased_product"],
        case["goal"],
        case["price"],
        case["options"],
        purchased_title_nouns=case["purchased_title_nouns"],
        goal_title_nouns=case["goal_title_nouns"],
        fuzz_backend=fuzz_backend,
    )


def _as_json(value):
    """Tuples become lists, as in the fixture file."""
    return json.loads(json.dumps(value))


# --- fixture replay ---------------------------------------------------------------------------------


def test_fixture_file_has_all_cases(webshop_fixtures):
    manifest = json.loads((webshop_fixtures / "MANIFEST.json").read_text(encoding="utf-8"))
    assert len(_cases(webshop_fixtures)) == manifest["counts"]["reward_cases"] == 150


def test_replays_every_fixture_case_exactly(webshop_fixtures):
    mismatches = []
    for case in _cases(webshop_fixtures):
        got = _replay(case)
        reward, info = _replay(case, score=get_reward)
        checks = {
            "reward": abs(got.reward - case["reward"]) <= 1e-9 and reward == got.reward,
            "info": info == case["info"] and list(info) == list(case["info"]) and info == got.info,
            "info types": all(type(info[k]) is type(v) for k, v in case["info"].items()),
            "num_attr_matches": got.num_attr_matches == case["num_attr_matches"],
            "num_option_matches": got.num_option_matches == case["num_option_matches"],
            "normalized_purchased_options": _as_json(got.normalized_purchased_options)
            == case["normalized_purchased_options"],
            "normalized_goal_options": _as_json(got.normalized_goal_options) == case["normalized_goal_options"],
            "rapidfuzz is thefuzz 0.22.1": case["reward_by_thefuzz"]["0.22.1"] == case["reward"],
        }
        failed = [name for name, ok in checks.items() if not ok]
        if failed:
            mismatches.append((case["id"], failed))
    assert mismatches == []


@pytest.mark.parametrize("backend", FUZZ_BACKENDS)
def test_each_fuzz_backend_matches_its_thefuzz_version(webshop_fixtures, backend):
    expected_version = THEFUZZ_VERSION[backend]
    mismatches = [
        (case["id"], got, case["reward_by_thefuzz"][expected_version])
        for case in _cases(webshop_fixtures)
        if abs((got := _replay(case, backend).reward) - case["reward_by_thefuzz"][expected_version]) > 1e-9
    ]
    assert mismatches == []


def test_fixtures_exercise_a_case_where_the_backends_disagree(webshop_fixtures):
    disagree = [c for c in _cases(webshop_fixtures) if "thefuzz_versions_disagree" in c["tags"]]
    assert disagree
    for case in disagree:
        assert _replay(case, "rapidfuzz").reward != _replay(case, "difflib").reward


def test_fixture_quirk_coverage(webshop_fixtures):
    tags = {tag for case in _cases(webshop_fixtures) for tag in case["tags"]}
    for needed in (
        "bullets_string",
        "title_score_eq_0.1",
        "title_score_eq_0.2",
        "no_goal_nouns",
        "duplicate_goal_nouns",
        "normalize_color_changed_value",
        "tuple_goal_option_normalized_to_color",
        "attr_text_fallback_hit",
        "price_equals_upper",
        "dummy_attr",
    ):
        assert needed in tags


# --- normalize_color ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("dark blue", "blue"),  # "blue" sorts before "dark"
        ("navy blue", "blue"),
        ("light grey", "grey"),
        ("dark grey", "dark"),  # "dark" sorts before "grey"
        ("light pink", "light"),
        ("stonewashed", "ash"),
        ("washed black", "ash"),
        ("titanium", "tan"),
        ("standard", "tan"),
        ("peppermint", "mint"),
        ("rosemary mint", "mint"),
        ("rose gold", "gold"),
        ("black | white", "black"),
        ("x-large", "x-large"),
        ("tea tree", "tea tree"),
        ("Black", "Black"),  # case-sensitive: values are lower-cased by the loader, not here
    ],
)
def test_normalize_color_first_substring_match(value, expected):
    assert normalize_color(value) == expected


def test_normalize_color_on_tuples_tests_element_membership():
    assert normalize_color(("color", "black")) == "black"
    assert normalize_color(("color", "dark blue")) == ("color", "dark blue")
    assert normalize_color(("style", "titanium")) == ("style", "titanium")


def test_color_set_is_sorted_and_unique():
    assert list(COLOR_SET) == sorted(set(COLOR_SET))
    assert {"ash", "tan", "mint", "dark", "light", "blue", "grey", "gray"} <= set(COLOR_SET)


def test_goal_option_items_dict_becomes_pairs():
    assert goal_option_items({"color": "red", "size": "m"}) == [("color", "red"), ("size", "m")]
    assert goal_option_items(["red", "m"]) == ["red", "m"]


# --- token_set_ratio ----------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", FUZZ_BACKENDS)
@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("9.5", "9", 100),
        ("large", ("size", "x-large"), 100),
        ("xx-large", ("size", "x-large"), 77),
        ("x-large", ("size", "large"), 83),
        ("essential oil", "essential oils", 96),
        ("m", "medium", 29),
        ("same words", "words same", 100),
        ("café", "caf", 100),  # code points 128-255 are deleted, not replaced
        (None, "x", 0),
        ("", "x", 0),
        ("!!", "!!", 0),
    ],
)
def test_token_set_ratio_reference_values(a, b, expected, backend):
    assert token_set_ratio(a, b, backend) == expected
    assert token_set_ratio(b, a, backend) == expected


def test_token_set_ratio_underscore_differs_between_backends():
    assert token_set_ratio("DUMMY_ATTR", "attr") == 100
    assert token_set_ratio("DUMMY_ATTR", "attr", backend="difflib") == 57


def test_full_process_per_backend():
    assert full_process("Dark_Grey / XL") == "dark grey   xl"
    assert full_process("Dark_Grey / XL", backend="difflib") == "dark_grey   xl"
    assert full_process(("size", "x-large"), backend="difflib") == "size    x large"


def test_unknown_fuzz_backend_is_rejected():
    with pytest.raises(ValueError, match="unknown fuzz backend 'levenshtein'"):
        token_set_ratio("a", "b", backend="levenshtein")


# --- type reward --------------------------------------------------------------------------------------


def test_category_match_needs_two_shared_distinct_parts():
    assert category_match("Home › Kitchen › Knives", " Home ›Kitchen› Pans")
    assert category_match("a › a › b", "a › b › c")
    assert not category_match("a › a › a", "a › c › d")


def test_title_score_counts_goal_repeats_and_defaults_to_0_2():
    assert title_score(["sofa", "bed"], ["sofa", "sofa", "chair", "bed"]) == 0.5
    assert title_score([], []) == 0.2
    assert title_score(["sofa"], ["chair"]) == 0.0


@pytest.mark.parametrize(
    ("purchased", "goal_nouns", "query", "r_type"),
    [
        (["a"], ["a"] + ["x"] * 9, "other", 0.5),  # 0.1 is not < 0.1; no other match -> 0.5
        (["a"], ["a"] + ["x"] * 9, "same", 1.0),
        (["a"], ["a"] + ["x"] * 10, "same", 0.1),  # < 0.1 overrides a query match
        (["z"], ["a", "b"], "same", 0.0),
        (["a"], ["a"] + ["x"] * 4, "other", 0.5),  # 0.2 is not > 0.2
        (["a"], ["a", "x", "y"], "other", 1.0),
        (["a"], [], "other", 0.5),  # no goal nouns -> 0.2
        (["A"], ["a"], "other", 1.0),  # nouns are lower-cased
    ],
)
def test_type_reward_thresholds(purchased, goal_nouns, query, r_type):
    product = {"query": "same", "product_category": "a › b"}
    goal = {"query": query, "product_category": "c › d"}
    assert type_reward(product, goal, purchased, goal_nouns).r_type == r_type


# --- whole reward on hand-built cases (re-derived from the upstream unit-test scenarios) -----------


SHARED = {
    "asin": "B0TEST0001",
    "name": "Acme Tea Tree Body Oil",
    "query": "body oils",
    "product_category": "Beauty & Personal Care › Skin Care › Body › Oils",
}
"""Fields a goal copies from its target product: :func:`_goal` targets :func:`_product`."""


def _product(**overrides):
    return {
        **SHARED,
        "Title": SHARED["name"],
        "category": "beauty",
        "Description": "A light oil.",
        "BulletPoints": ["Made with essential oils", "Travel size"],
        "Attributes": ["tea tree", "natural ingredients"],
        "options": {"size": ["2 fl oz", "4 fl oz"], "scent": ["lavender", "rose"]},
        **overrides,
    }


def _goal(**overrides):
    return {
        **SHARED,
        "attributes": ["tea tree", "essential oils"],
        "goal_options": ["4 fl oz", "lavender"],
        "price_upper": 30.0,
        **overrides,
    }


NOUNS = {"purchased_title_nouns": ["Acme", "Tree", "Body", "Oil"], "goal_title_nouns": ["Acme", "Tree", "Body", "Oil"]}
OPTIONS = {"size": "4 fl oz", "scent": "lavender"}


def test_exact_purchase_scores_one():
    reward, info = get_reward(_product(), _goal(), 20.0, OPTIONS, **NOUNS)
    assert reward == 1.0
    assert info == {
        "r_type": 1.0,
        "r_att": 1.0,
        "w_att": 0.4,
        "query_match": True,
        "category_match": True,
        "title_score": 1.0,
        "r_option": 1.0,
        "w_option": 0.4,
        "r_price": True,
        "w_price": 0.2,
    }


def test_bullet_points_as_a_string_are_joined_character_by_character():
    product = _product(BulletPoints="Made with essential oils")
    reward, info = get_reward(product, _goal(goal_options=[]), 20.0, {}, **NOUNS)
    assert (reward, info["r_att"]) == (2 / 3, 0.5)
    assert get_reward(_product(), _goal(goal_options=[]), 20.0, {}, **NOUNS)[0] == 1.0


def test_goal_option_the_product_lacks_costs_its_share():
    goal = _goal(goal_options=["4 fl oz", "lavender", "pack of 3"])
    reward, info = get_reward(_product(), goal, 20.0, OPTIONS, **NOUNS)
    assert (reward, info["r_option"], info["w_option"]) == (5 / 6, 2 / 3, 0.5)


def test_weak_title_without_query_or_category_halves_the_reward():
    nouns = {"purchased_title_nouns": ["oil"], "goal_title_nouns": ["oil"] + ["x"] * 5}  # 1/6 ~ 0.17
    product = _product(query="candles", product_category="Home › Candles")
    reward, info = get_reward(product, _goal(goal_options=[]), 20.0, {}, **nouns)
    assert (info["r_type"], info["query_match"], info["category_match"]) == (0.5, False, False)
    assert reward == 0.5


def test_category_match_alone_keeps_r_type_one_and_counts_unmatched_options():
    # the AgentGym example: 1 of 2 attributes, 0 of 1 options, price ok -> (1 + 0 + 1) / 4
    product = _product(query="sofas", name="Other Sofa", Attributes=["wood frame"], Title="Other Sofa", Description="")
    goal = _goal(query="couches", attributes=["wood frame", "easy assemble"], goal_options=["grey"])
    reward, info = get_reward(product, goal, 20.0, {}, purchased_title_nouns=["Sofa"], goal_title_nouns=["Sofa"])
    assert reward == 0.5
    assert (info["r_type"], info["category_match"], info["r_option"]) == (1.0, True, 0.0)


def test_synthetic_dict_goal_options_compare_name_value_pairs():
    goal = _goal(goal_options={"size": "large"})
    list_goal = _goal(goal_options=["large"])
    dict_score = reward_breakdown(_product(), goal, 20.0, {"size": "x-large"}, **NOUNS)
    list_score = reward_breakdown(_product(), list_goal, 20.0, {"size": "x-large"}, **NOUNS)
    assert (dict_score.num_option_matches, list_score.num_option_matches) == (0, 1)
    assert dict_score.normalized_goal_options == [("size", "large")]


def test_price_over_upper_and_no_options_omits_option_keys():
    reward, info = get_reward(_product(), _goal(goal_options=[]), 30.01, {}, **NOUNS)
    assert info["r_price"] is False and "r_option" not in info and "w_option" not in info
    assert reward == 2 / 3


# --- nouns --------------------------------------------------------------------------------------------


def test_heuristic_noun_extractor():
    extract = HeuristicNounExtractor()
    assert isinstance(extract, NounExtractor) and extract.name == "heuristic"
    assert extract("Men's Slim-Fit Dress Shirt, Shirt for the Office (Pack of 2)") == [
        "Men",
        "Slim",
        "Fit",
        "Dress",
        "Shirt",
        "Shirt",
        "Office",
        "Pack",
    ]
    assert extract("A 2-in-1 of the") == []
    assert {"of", "the", "for", "with", "and"} <= FUNCTION_WORDS


def test_given_nouns_are_used_without_any_extractor():
    def fail(title: str) -> list[str]:
        raise AssertionError("extractor must not run when both noun lists are given")

    result = reward_breakdown(_product(), _goal(), 20.0, OPTIONS, noun_extractor=fail, **NOUNS)
    assert result.noun_backend == "given"
    assert result.goal_title_nouns == ["acme", "tree", "body", "oil"]


def test_missing_noun_list_is_extracted_and_reported():
    seen = []

    def nouns_of(title: str) -> list[str]:
        seen.append(title)
        return ["Oil", "Body"]

    result = reward_breakdown(
        _product(name="Purchased Name"),
        _goal(),
        20.0,
        OPTIONS,
        goal_title_nouns=["oil", "lamp"],
        noun_extractor=nouns_of,
    )
    assert seen == ["Purchased Name"]
    assert result.noun_backend == "given+test_missing_noun_list_is_extracted_and_reported.<locals>.nouns_of"
    assert (result.purchased_title_nouns, result.info["title_score"]) == (["oil", "body"], 0.5)

    heuristic = reward_breakdown(_product(), _goal(), 20.0, OPTIONS, noun_extractor="heuristic")
    assert heuristic.noun_backend == "heuristic"
    assert heuristic.goal_title_nouns == ["acme", "tea", "tree", "body", "oil"]


def test_noun_extractor_specs():
    assert extractor_name(resolve_noun_extractor("heuristic")) == "heuristic"
    assert resolve_noun_extractor("spacy:en_core_web_sm").name == "spacy:en_core_web_sm"
    with pytest.raises(ValueError, match="unknown noun extractor 'nltk'"):
        resolve_noun_extractor("nltk")
    if not spacy_available("en_core_web_lg") and not spacy_available("en_core_web_sm"):
        assert resolve_noun_extractor(None).name == "heuristic"
        with pytest.raises(ImportError, match="no spaCy model installed"):
            resolve_noun_extractor("spacy")


def test_spacy_extractor_without_the_model_says_what_to_install():
    with pytest.raises(ImportError, match="no_such_model"):
        SpacyNounExtractor("no_such_model")("A Title")


# --- malformed input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("product", "goal", "price", "options", "message"),
    [
        (
            {k: v for k, v in _product().items() if k != "Attributes"},
            _goal(),
            1.0,
            {},
            "purchased_product is missing required key.*'Attributes'",
        ),
        (
            _product(),
            {k: v for k, v in _goal().items() if k != "price_upper"},
            1.0,
            {},
            "goal is missing required key.*'price_upper'",
        ),
        (["not", "a", "dict"], _goal(), 1.0, {}, "purchased_product must be a dict"),
        (
            _product(BulletPoints=None),
            _goal(),
            1.0,
            {},
            r"purchased_product\['BulletPoints'\] must be a list of strings",
        ),
        (_product(Description=None), _goal(), 1.0, {}, r"purchased_product\['Description'\] must be a string"),
        (_product(), _goal(attributes=[]), 1.0, {}, r"goal\['attributes'\] is empty"),
        (_product(), _goal(attributes="tea tree"), 1.0, {}, r"goal\['attributes'\] must be a list of strings"),
        (_product(), _goal(goal_options="red"), 1.0, {}, r"goal\['goal_options'\] must be a list of strings"),
        (_product(), _goal(goal_options={"size": 3}), 1.0, {}, r"goal\['goal_options'\] as a dict"),
        (_product(), _goal(price_upper=0), 1.0, {}, r"goal\['price_upper'\] must be a positive number"),
        (_product(), _goal(), "12", {}, "price must be a number"),
        (_product(), _goal(), 1.0, ["red"], "options must be a dict"),
        (_product(), _goal(), 1.0, {"color": None}, "options must map option names to chosen values"),
    ],
)
def test_malformed_inputs_name_the_problem(product, goal, price, options, message):
    with pytest.raises(ValueError, match=message):
        get_reward(product, goal, price, options, **NOUNS)


def test_bad_noun_lists_and_backend_are_rejected():
    with pytest.raises(ValueError, match="goal_title_nouns must be a list of strings"):
        get_reward(_product(), _goal(), 1.0, {}, purchased_title_nouns=["a"], goal_title_nouns="acme oil")
    with pytest.raises(ValueError, match="unknown fuzz_backend 'thefuzz'"):
        get_reward(_product(), _goal(), 1.0, {}, fuzz_backend="thefuzz", **NOUNS)
