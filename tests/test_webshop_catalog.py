"""WebShop catalog generator, raw-file loader and caches; goals and splits."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from random import Random

import pytest

from conftest import PicklePayload
from spa_gym.envs.webshop import catalog as catalog_module
from spa_gym.envs.webshop.catalog import (
    CATEGORIES,
    GENERATOR_VERSION,
    PRODUCT_KEYS,
    QUERIES,
    RAW_FILES,
    Catalog,
    CatalogFileError,
    catalog_from_raw,
    find_raw_files,
    generate_raw,
    generated_catalog,
    iter_option_values,
    load_raw_catalog,
    real_catalog,
    title_nouns,
)
from spa_gym.envs.webshop.fuzzy import token_set_ratio
from spa_gym.envs.webshop.goals import (
    GOAL_KEYS,
    GOAL_SHUFFLE_SEED,
    GoalSuite,
    goal_set,
    human_goals,
    price_upper,
    product_prices,
    split_indices,
    synthetic_goals,
)
from spa_gym.envs.webshop.reward import get_reward, normalize_color


@pytest.fixture(scope="module")
def raw1k():
    return generate_raw(1000, seed=0)


@pytest.fixture(scope="module")
def catalog1k(raw1k) -> Catalog:
    return catalog_from_raw(*raw1k, key="test-catalog-1k")


# -- generator -------------------------------------------------------------------------------------


def test_generator_is_deterministic_per_seed() -> None:
    assert generate_raw(150, seed=5) == generate_raw(150, seed=5)
    assert generate_raw(150, seed=5)[0] != generate_raw(150, seed=6)[0]
    assert len(generate_raw(1, seed=0)[0]) == 1
    with pytest.raises(ValueError, match="positive int"):
        generate_raw(0)


RAW_ITEM_KEYS = [
    "asin", "name", "full_description", "small_description", "pricing", "images", "product_category", "query",
    "category", "customization_options", "brand", "product_information",
]  # fmt: skip
HUMAN_RECORD_KEYS = [
    "asin", "instruction", "instruction_attributes", "instruction_options", "attributes", "options", "worker_id",
    "assignment_id",
]  # fmt: skip
PRICE_STRING = re.compile(r"^(\$\d{1,3}(,\d{3})*\.\d\d( - \$\d{1,3}(,\d{3})*\.\d\d)?)?$")


def _is_str_list(value) -> bool:
    return type(value) is list and all(type(v) is str for v in value)


def test_raw_items_have_the_real_schema_with_exact_types(raw1k) -> None:
    items, annotations, human, nouns = raw1k
    assert type(items) is list and len(items) == 1000
    assert len({p["asin"] for p in items}) == 1000
    for raw in items:
        assert list(raw) == RAW_ITEM_KEYS
        assert type(raw["asin"]) is str and re.fullmatch(r"B0[0-9A-Z]{8}", raw["asin"])
        assert type(raw["name"]) is str and raw["name"]
        assert type(raw["full_description"]) is str
        assert _is_str_list(raw["small_description"]) or type(raw["small_description"]) is str
        assert type(raw["pricing"]) is str and PRICE_STRING.match(raw["pricing"]), raw["pricing"]
        assert _is_str_list(raw["images"]) and len(raw["images"]) == 1
        assert type(raw["product_category"]) is str and raw["product_category"].count(" › ") >= 2
        assert raw["category"] in CATEGORIES
        assert raw["query"] in {q.query for q in QUERIES if q.category == raw["category"]}
        options = raw["customization_options"]
        assert options is None or (type(options) is dict and options)
        for name, values in (options or {}).items():
            assert type(name) is str and 2 <= len(values) <= 7
            assert all(list(v) == ["value", "image"] and type(v["value"]) is str and v["image"] is None for v in values)
        assert type(raw["brand"]) is str and raw["product_information"] == {}
    assert type(annotations) is dict
    for _asin, entry in annotations.items():
        assert list(entry) in (["attributes"], ["attributes", "instruction", "instruction_attributes"])
        assert _is_str_list(entry["attributes"]) and 2 <= len(entry["attributes"]) <= 4
        if "instruction" in entry:
            assert entry["instruction"].startswith("Find me ") and set(entry["instruction_attributes"]) <= set(
                entry["attributes"]
            )
    for asin, records in human.items():
        assert type(records) is list and 1 <= len(records) <= 5
        for record in records:
            assert list(record) == HUMAN_RECORD_KEYS and record["asin"] == asin
            assert type(record["instruction"]) is str and record["instruction"] == record["instruction"].lower()
            for key in ("instruction_attributes", "instruction_options", "attributes", "options"):
                assert _is_str_list(record[key])
            assert set(record["instruction_attributes"]) <= set(annotations[asin]["attributes"])
            assert re.fullmatch(r"A[0-9A-Z]{13}", record["worker_id"])
            assert re.fullmatch(r"3[0-9A-Z]{29}", record["assignment_id"])
    assert set(nouns) == {p["asin"] for p in items} and all(_is_str_list(n) for n in nouns.values())


def test_generated_catalog_mixes_what_the_real_data_has(raw1k, catalog1k) -> None:
    items, _, human, _ = raw1k
    prices = Counter("range" if " - " in p["pricing"] else "missing" if not p["pricing"] else "single" for p in items)
    assert 100 < prices["range"] < 300 and 5 <= prices["missing"] < 50
    assert any("," in p["pricing"] for p in items)  # over $1,000
    assert any(type(p["small_description"]) is str for p in items)
    assert Counter(p["category"] for p in items).keys() == set(CATEGORIES)
    assert len({q.query for q in QUERIES}) == len(QUERIES) == 60
    assert len({p["query"] for p in items}) >= 55
    assert all(len(set(q.breadcrumbs)) >= 3 for q in QUERIES)
    assert any(" | " in v for p in catalog1k.products for vs in p["options"].values() for v in vs)
    assert sum(not p["options"] for p in catalog1k.products) > 50
    assert 1 <= sum(p["Attributes"] == ["DUMMY_ATTR"] for p in catalog1k.products) < 30
    assert 250 < len(human) < 450 and len(catalog1k.synthetic_instructions) > 150
    # attributes are mostly (not always) written into the title, the bullets or the description
    pairs = [
        a in (p["Title"] + " " + " ".join(p["BulletPoints"]) + " " + p["Description"]).lower()
        for p in catalog1k.products
        for a in p["Attributes"]
    ]
    assert 0.6 < sum(pairs) / len(pairs) < 0.95


def test_every_goal_product_has_a_near_miss_of_the_same_query_and_noun(catalog1k) -> None:
    by_query: dict[str, list[dict]] = {}
    for product in catalog1k.products:
        by_query.setdefault(product["query"], []).append(product)
    nouns = catalog1k.title_nouns
    for asin in catalog1k.human_instructions:
        target = catalog1k.by_asin[asin]
        own = set(nouns[asin][1:])  # minus the brand
        near = [
            p
            for p in by_query[target["query"]]
            if p["asin"] != asin
            and own & set(nouns[p["asin"]])
            and (p["Attributes"], p["options"], p["pricing"], p["product_category"])
            != (target["Attributes"], target["options"], target["pricing"], target["product_category"])
        ]
        assert near, target["Title"]


def test_title_nouns_are_the_brand_and_noun_words_in_title_order(raw1k) -> None:
    assert title_nouns("Oak & Ivy Portable Storage Ottoman Living Room - Pack of 2", "Oak & Ivy") == [
        "Oak", "Ivy", "Storage", "Ottoman", "Room", "Pack",
    ]  # fmt: skip
    items, _, _, nouns = raw1k
    for raw in items:
        found = nouns[raw["asin"]]
        assert found and found[0] == raw["brand"].split()[0]
        # distinct nouns keep the type reward of the goal product itself at 1.0
        assert len({n.lower() for n in found}) / len(found) >= 0.5


@pytest.mark.parametrize("backend", ["rapidfuzz", "difflib"])
def test_every_option_value_matches_itself_after_colour_normalisation(backend: str) -> None:
    """As a human goal value and as a synthetic (name, value) pair: the goal product stays winnable."""
    for name, value in iter_option_values():
        assert token_set_ratio(normalize_color(value), normalize_color(value), backend) > 85
        assert token_set_ratio(normalize_color(value), normalize_color((name, value)), backend) > 85, (name, value)


def test_no_option_value_is_shared_by_two_groups_or_a_button() -> None:
    buttons = {"back to search", "< prev", "next >", "description", "features", "reviews", "attributes", "buy now"}
    for spec in QUERIES:
        seen: dict[str, str] = {}
        for kind in spec.options:
            name, values = catalog_module.OPTION_KINDS[kind]
            for value in values:
                loaded = value.lower()
                assert loaded not in buttons and seen.setdefault(loaded, name) == name, (spec.query, value)


# -- loader ----------------------------------------------------------------------------------------

RAW = [
    {"asin": "B000000001", "name": "Acme Lamp", "full_description": "A lamp.", "small_description": ["Bright", "Warm"],
     "pricing": "$1,299.00 - $1,499.99", "images": ["a.jpg"], "product_category": "Home › Lamps",
     "query": " Desk LAMPS ", "category": "garden", "brand": "Acme", "product_information": {"x": 1},
     "customization_options": {"Color": [{"value": " Black/White ", "image": "b.jpg"}, {"value": "Red"}],
                               "Size": None}},
    {"asin": "nan", "name": "Skipped", "query": "q", "category": "c", "product_category": "p"},
    {"asin": "B0000000011", "name": "Skipped, asin too long", "query": "q", "category": "c", "product_category": "p"},
    {"asin": "B000000002", "name": "Tea", "full_description": None, "small_description": "One bullet",
     "pricing": "$5", "product_category": "Food › Tea", "query": "tea", "category": "grocery",
     "customization_options": None},
    {"asin": "B000000001", "name": "Duplicate", "query": "q", "category": "c", "product_category": "p"},
    {"asin": "B000000003", "name": "Bag", "full_description": "", "small_description": [], "pricing": "",
     "product_category": "Bags", "query": "bags", "category": "fashion", "customization_options": {}},
    {"asin": "B000000004", "name": "Three prices", "pricing": "$1.50$2.50$3.50", "query": "q", "category": "c",
     "product_category": "p"},
]  # fmt: skip
ANNOTATIONS = {
    "B000000001": {"attributes": ["warm light"], "instruction": "Find me lamps with warm light",
                   "instruction_attributes": ["warm light"]},
    "B000000002": {"instruction": None},
    "B000000004": {"attributes": []},
}  # fmt: skip
HUMAN = {
    "B000000002": [{"asin": "B000000002", "instruction": "i need tea.", "instruction_attributes": ["tea"],
                    "instruction_options": [], "attributes": [], "options": [], "worker_id": "A",
                    "assignment_id": "3"}],
    "B000000099": [],
}  # fmt: skip
EXPECTED = [
    {"asin": "B000000001", "name": "Acme Lamp", "Title": "Acme Lamp", "query": "desk lamps", "category": "garden",
     "product_category": "Home › Lamps", "Description": "A lamp.", "BulletPoints": ["Bright", "Warm"],
     "Attributes": ["warm light"], "options": {"color": ["black | white", "red"]}, "Price": "$1299.0 to $1499.99",
     "pricing": [1299.0, 1499.99], "Rating": "N.A.", "Reviews": []},
    {"asin": "B000000002", "name": "Tea", "Title": "Tea", "query": "tea", "category": "grocery",
     "product_category": "Food › Tea", "Description": "", "BulletPoints": ["One bullet"], "Attributes": ["DUMMY_ATTR"],
     "options": {}, "Price": "$5.0", "pricing": [5.0], "Rating": "N.A.", "Reviews": []},
    {"asin": "B000000003", "name": "Bag", "Title": "Bag", "query": "bags", "category": "fashion",
     "product_category": "Bags", "Description": "", "BulletPoints": [], "Attributes": ["DUMMY_ATTR"], "options": {},
     "Price": "$100.0", "pricing": [100.0], "Rating": "N.A.", "Reviews": []},
    {"asin": "B000000004", "name": "Three prices", "Title": "Three prices", "query": "q", "category": "c",
     "product_category": "p", "Description": "", "BulletPoints": [], "Attributes": [], "options": {},
     "Price": "$1.5 to $2.5", "pricing": [1.5, 2.5], "Rating": "N.A.", "Reviews": []},
]  # fmt: skip


def _write(folder: Path, **files) -> dict[str, Path]:
    paths = {}
    for name, content in files.items():
        paths[name] = folder / RAW_FILES[name]
        text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
        paths[name].write_text(text, encoding="utf-8")
    return paths


def test_loader_applies_the_original_transformations_exactly(tmp_path: Path) -> None:
    paths = _write(tmp_path, items=RAW, attributes=ANNOTATIONS, human=HUMAN)
    catalog = load_raw_catalog(paths["items"], paths["attributes"], paths["human"], key="hand")
    assert catalog.products == EXPECTED
    assert [list(p) for p in catalog.products] == [list(PRODUCT_KEYS)] * 4
    assert catalog.by_asin["B000000002"] is catalog.products[1]
    assert catalog.synthetic_instructions == {"B000000001": ("Find me lamps with warm light", ["warm light"])}
    assert catalog.human_instructions == {"B000000002": HUMAN["B000000002"]}
    assert catalog.title_nouns is None
    # the cut to num_products comes before de-duplication (WebShop's order)
    cut = load_raw_catalog(paths["items"], paths["attributes"], num_products=5, key="hand-5")
    assert [p["asin"] for p in cut.products] == ["B000000001", "B000000002"]


def test_loader_format_matches_the_fixtures(webshop_fixtures: Path, catalog1k: Catalog) -> None:
    page_products = [
        product
        for line in (webshop_fixtures / "pages.jsonl").read_text().splitlines()
        for product in json.loads(line)["inputs"]["products"]
    ]
    cases = [json.loads(line) for line in (webshop_fixtures / "reward_cases.jsonl").read_text().splitlines()]
    assert page_products and all(list(p) == list(PRODUCT_KEYS) for p in page_products)
    reference = {key: type(value) for key, value in page_products[0].items()}
    for product in catalog1k.products:
        assert {key: type(value) for key, value in product.items()} == reference
        assert all(type(v) is float for v in product["pricing"])
    assert all(list(case["goal"]) == list(GOAL_KEYS) for case in cases)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("items", "{not json", r"items_shuffle\.json: not valid JSON"),
        ("items", {"asin": "B0"}, r"items_shuffle\.json: expected a JSON list of products, got dict"),
        ("items", [RAW[0], {"asin": "B000000009", "query": "q", "category": "c", "product_category": "p"}],
         r"items_shuffle\.json: record 1 \(asin 'B000000009'\): field 'name' must be a string, got None"),
        ("items", [RAW[0], {**RAW[3], "pricing": 12.5}],
         r"record 1 \(asin 'B000000002'\): field 'pricing' must be a string .* got 12\.5"),
        ("items", [{**RAW[3], "pricing": "12.50"}], r"record 0 \(asin 'B000000002'\): field 'pricing' '12\.50' has no"),
        ("items", [{**RAW[3], "pricing": "$abc"}],
         r"record 0 .*: field 'pricing' '\$abc' has a part 'abc' that is not"),
        ("items", [{**RAW[3], "customization_options": {"Size": [{"image": "x"}]}}],
         r"record 0 \(asin 'B000000002'\): customization_options\['Size'\] entry .* needs a string 'value'"),
        ("items", [{**RAW[3], "small_description": [1]}], r"record 0 .*: field 'small_description' must be"),
        ("items", [7], r"record 0: a product must be a JSON object, got int"),
        ("attributes", {"B000000001": {"attributes": "warm"}},
         r"items_ins_v2\.json: record 'B000000001': field 'attributes' must be a list of strings"),
        ("attributes", {"B000000001": {"instruction": "Find me x"}},
         r"items_ins_v2\.json: record 'B000000001': field 'instruction_attributes' must be a non-empty list"),
        ("human", {"B000000002": [{"instruction": "i need tea", "instruction_attributes": ["tea"]}]},
         r"items_human_ins\.json: record 'B000000002'\[0\]: field 'instruction_options' must be a list of strings"),
        ("human", [], r"items_human_ins\.json: expected a JSON object asin -> list of records, got list"),
        ("nouns", {"B000000001": "Lamp"}, r"title_nouns\.json: record 'B000000001': expected a list of strings"),
    ],
)  # fmt: skip
def test_malformed_files_name_the_file_the_record_and_the_field(
    tmp_path: Path, name: str, content, message: str
) -> None:
    files = {"items": RAW, "attributes": ANNOTATIONS, "human": HUMAN, "nouns": {}}
    paths = _write(tmp_path, **{**files, name: content})
    with pytest.raises(CatalogFileError, match=message) as error:
        load_raw_catalog(paths["items"], paths["attributes"], paths["human"], paths["nouns"], key="bad")
    assert str(paths[name]) in str(error.value)


def test_missing_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(CatalogFileError, match=r"items_shuffle\.json: file not found"):
        load_raw_catalog(tmp_path / "items_shuffle.json", tmp_path / "items_ins_v2.json", key="none")
    with pytest.raises(FileNotFoundError, match="no items_shuffle.json or items_shuffle_1000.json"):
        find_raw_files(tmp_path, 1000)


def test_real_files_are_found_as_webshop_names_them(tmp_path: Path) -> None:
    for stem in ("items_shuffle", "items_ins_v2"):
        for suffix in ("", "_1000"):
            (tmp_path / f"{stem}{suffix}.json").write_text("[]" if stem == "items_shuffle" else "{}")
    small, full = find_raw_files(tmp_path, 1000), find_raw_files(tmp_path, None)
    assert (small["items"].name, small["attributes"].name) == ("items_shuffle_1000.json", "items_ins_v2_1000.json")
    assert (full["items"].name, full["attributes"].name, full["human"]) == (
        "items_shuffle.json",
        "items_ins_v2.json",
        None,
    )
    with pytest.raises(FileNotFoundError, match="not a directory"):
        find_raw_files(tmp_path / "absent", None)


def test_real_catalog_reads_generated_raw_files_and_is_shared(tmp_path: Path) -> None:
    items, annotations, human, nouns = generate_raw(120, seed=4)
    _write(tmp_path, items=items, attributes=annotations, human=human)
    catalog = real_catalog(tmp_path)
    assert real_catalog(tmp_path) is catalog and catalog.title_nouns is None
    assert catalog.products == catalog_from_raw(items, annotations, human, nouns, key="x").products
    assert len(real_catalog(tmp_path, 50)) == 50


# -- caches ----------------------------------------------------------------------------------------


def test_generated_catalog_is_cached_on_disk_and_in_process(tmp_path: Path, monkeypatch) -> None:
    catalog = generated_catalog(120, seed=9, home=tmp_path)
    assert generated_catalog(120, seed=9, home=tmp_path) is catalog
    folder = tmp_path / f"catalog-v{GENERATOR_VERSION}-n120-s9"
    assert sorted(p.name for p in tmp_path.iterdir()) == [folder.name]  # no temporary folder left
    assert sorted(p.name for p in folder.iterdir()) == sorted([*RAW_FILES.values(), "catalog.pickle"])
    raw = generate_raw(120, seed=9)
    assert json.loads((folder / RAW_FILES["items"]).read_text()) == raw[0]
    from_files = load_raw_catalog(*(folder / RAW_FILES[n] for n in RAW_FILES), key="again")
    assert from_files.products == catalog.products and from_files.title_nouns == catalog.title_nouns
    # a new process (in-process cache cleared) reads the processed form, without generating
    monkeypatch.setattr(catalog_module, "_CACHE", {})
    monkeypatch.setattr(catalog_module, "generate_raw", None)
    again = generated_catalog(120, seed=9, home=tmp_path)
    assert again is not catalog and again.products == catalog.products and again.key == catalog.key
    with pytest.raises(ValueError, match="unknown catalog size 'huge'"):
        generated_catalog("huge", home=tmp_path)


def test_generated_catalog_defaults_to_spa_gym_home(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SPA_GYM_HOME", str(tmp_path))
    assert len(generated_catalog("tiny", seed=1)) == 100
    assert (tmp_path / "webshop" / f"catalog-v{GENERATOR_VERSION}-n100-s1" / "catalog.pickle").is_file()


# -- goals -----------------------------------------------------------------------------------------


def _hand_catalog() -> Catalog:
    products = [
        {"asin": "A1", "name": "Acme Lamp", "category": "garden", "query": "lamps", "product_category": "Home › Lamps",
         "pricing": [37.5], "options": {"size": ["s", "m"], "color": ["red", "blue"]}},
        {"asin": "A2", "name": "Big Sofa", "category": "garden", "query": "sofas", "product_category": "Home › Sofas",
         "pricing": [985.0], "options": {}},
        {"asin": "A3", "name": "Tea", "category": "grocery", "query": "tea", "product_category": "Food › Tea",
         "pricing": [], "options": {}},
    ]  # fmt: skip
    human = {
        "A1": [
            {"instruction": "i need a red lamp.", "instruction_attributes": ["warm"], "instruction_options": ["red"]},
            {"instruction": "no attributes", "instruction_attributes": [], "instruction_options": []},
        ],
        "A2": [{"instruction": "a big sofa", "instruction_attributes": ["big", "soft"], "instruction_options": []}],
    }
    synthetic = {"A1": ("Find me lamps with warm", ["warm"]), "A2": ("Find me sofas with big", ["big"])}
    return Catalog("hand-goals", products, synthetic, human, None)


def test_human_goals_are_built_as_the_original() -> None:
    catalog = _hand_catalog()
    rng = Random(3)
    prices = product_prices(catalog.products, rng)
    assert prices == {"A1": 37.5, "A2": 985.0, "A3": 100.0}
    goals = human_goals(catalog, prices, rng)
    upper = price_upper(37.5, Random(3))[0]
    assert upper in (50.0, 60.0, 70.0)
    assert goals == [
        {"asin": "A1", "category": "garden", "query": "lamps", "name": "Acme Lamp", "product_category": "Home › Lamps",
         "instruction_text": f"i need a red lamp, and price lower than {upper:.2f} dollars", "attributes": ["warm"],
         "price_upper": upper, "goal_options": ["red"], "weight": 1},
        {"asin": "A2", "category": "garden", "query": "sofas", "name": "Big Sofa", "product_category": "Home › Sofas",
         "instruction_text": "a big sofa", "attributes": ["big", "soft"], "price_upper": 1000000, "goal_options": [],
         "weight": 1},
    ]  # fmt: skip


def test_synthetic_goals_are_one_per_option_combination() -> None:
    catalog = _hand_catalog()
    prices = product_prices(catalog.products, Random(0))
    goals = synthetic_goals(catalog, prices, Random(0))
    assert [g["goal_options"] for g in goals] == [
        {"color": "red", "size": "s"}, {"color": "red", "size": "m"}, {"color": "blue", "size": "s"},
        {"color": "blue", "size": "m"}, {},
    ]  # fmt: skip
    upper = goals[0]["price_upper"]
    assert (
        goals[1]["instruction_text"]
        == f"Find me lamps with warm with color: red, and size: m, and price lower than {upper:.2f} dollars"
    )
    assert goals[4]["instruction_text"] == "Find me sofas with big" and goals[4]["price_upper"] == 1000000
    assert [g["weight"] for g in goals] == [0.25] * 4 + [1.0]
    assert all(list(g) == list(GOAL_KEYS) for g in goals)


def test_price_upper_takes_the_larger_of_two_of_the_next_four_buckets() -> None:
    seen = Counter(price_upper(41.0, Random(seed))[0] for seed in range(600))
    assert set(seen) == {60.0, 70.0, 80.0} and seen[80.0] > seen[70.0] > seen[60.0]
    assert price_upper(975.0, Random(0)) == (990.0, ", and price lower than 990.00 dollars")
    assert price_upper(980.0, Random(0)) == (1000000, "")


def test_goals_are_seeded_and_shuffled_with_233(catalog1k) -> None:
    goals = goal_set(catalog1k, human=True, price_seed=0)
    assert goal_set(catalog1k, human=True, price_seed=0) is goals
    other = goal_set(catalog1k, human=True, price_seed=1)
    assert [g["asin"] for g in goals.goals] == [g["asin"] for g in other.goals]
    assert [g["instruction_text"] for g in goals.goals] != [g["instruction_text"] for g in other.goals]
    rng = Random(0)
    unshuffled = human_goals(catalog1k, product_prices(catalog1k.products, rng), rng)
    Random(GOAL_SHUFFLE_SEED).shuffle(unshuffled)
    assert unshuffled == goals.goals
    assert len(goal_set(catalog1k, human=False).goals) > len(goals.goals)


@pytest.mark.parametrize("human", [True, False])
def test_generated_goals_are_all_winnable_by_their_own_product(catalog1k, human: bool) -> None:
    goals = goal_set(catalog1k, human=human)
    nouns = catalog1k.title_nouns
    for goal in goals.goals:
        product = catalog1k.by_asin[goal["asin"]]
        wanted = goal["goal_options"]
        chosen = (
            {name: value for name, values in product["options"].items() for value in values if value in wanted}
            if human
            else dict(wanted)
        )
        reward, info = get_reward(
            product,
            goal,
            goals.prices[goal["asin"]],
            chosen,
            purchased_title_nouns=nouns[goal["asin"]],
            goal_title_nouns=nouns[goal["asin"]],
        )
        assert reward == 1.0, (goal, info)  # fmt: skip


def test_splits_are_disjoint_by_product_and_sized_as_spa(catalog1k) -> None:
    catalog = catalog1k
    suites = {split: GoalSuite(catalog, split, price_seed=0) for split in ("train", "dev", "test", "all")}
    assert {split: len(suite) for split, suite in suites.items()} == {"train": 545, "dev": 200, "test": 200, "all": 950}
    asins = {split: Counter(suite.goal(i)["asin"] for i in range(len(suite))) for split, suite in suites.items()}
    assert not asins["test"].keys() & asins["train"].keys()
    assert not asins["dev"].keys() & asins["train"].keys() and not asins["dev"].keys() & asins["test"].keys()
    assert max(asins["test"].values()) <= 5 and len(asins["test"]) >= 40
    test = suites["test"]
    assert [test.goal_index(i) for i in range(len(test))] == sorted(test.goal_index(i) for i in range(len(test)))
    assert suites["all"].goal_index(17) == 17
    assert test.task_id(7) == "test-0007" and test.index_of("test-0199") == 199
    for bad in ("test-0200", "train-0001", "test-x"):
        with pytest.raises(ValueError, match="unknown task id"):
            test.index_of(bad)
    with pytest.raises(IndexError, match=r"^task index 200 out of range for split 'test' \(200 tasks\)$"):
        test.goal(200)
    with pytest.raises(ValueError, match="unknown WebShop split"):
        GoalSuite(catalog, "valid")


def test_split_indices_cap_small_catalogs() -> None:
    goals = [{"asin": f"p{i % 40}"} for i in range(120)]
    splits = split_indices(goals)
    assert (len(splits["test"]), len(splits["dev"])) == (30, 30)
    owners = {split: {goals[i]["asin"] for i in splits[split]} for split in ("train", "dev", "test")}
    assert len(owners["test"]) == 10 and len(owners["train"]) == 20 and not owners["test"] & owners["train"]


@pytest.mark.parametrize("damage", ["planted", "truncated", "not a catalog", "bad raw file"])
def test_a_broken_or_hostile_catalog_cache_is_rebuilt_without_running_code(tmp_path: Path, monkeypatch,
                                                                          damage: str) -> None:
    import pickle

    catalog = generated_catalog(40, seed=3, home=tmp_path)
    folder = tmp_path / f"catalog-v{GENERATOR_VERSION}-n40-s3"
    processed = folder / "catalog.pickle"
    marker = tmp_path / "pwned"
    if damage == "planted":
        processed.write_bytes(pickle.dumps({"catalog": PicklePayload(str(marker))}))
    elif damage == "truncated":
        processed.write_bytes(processed.read_bytes()[:1000])
    elif damage == "not a catalog":
        processed.write_bytes(pickle.dumps([1, 2, 3]))
    else:
        processed.unlink()
        (folder / RAW_FILES["items"]).write_text("[{")
    monkeypatch.setattr(catalog_module, "_CACHE", {})
    with pytest.warns(UserWarning,
                      match=rf"the WebShop catalog cache .*{folder.name}.* is unreadable .*; it is rebuilt"):
        rebuilt = generated_catalog(40, seed=3, home=tmp_path)
    assert not marker.exists()
    assert rebuilt.products == catalog.products
    assert sorted(p.name for p in folder.iterdir()) == sorted([*RAW_FILES.values(), "catalog.pickle"])
    monkeypatch.setattr(catalog_module, "_CACHE", {})
    monkeypatch.setattr(catalog_module, "generate_raw", None)  # the rebuilt cache is read, not generated
    assert generated_catalog(40, seed=3, home=tmp_path).products == catalog.products
