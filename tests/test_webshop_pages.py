"""WebShop pages, actions and the shopping session against the recordings of the original text env."""

from __future__ import annotations

import json
import random
import re
from collections import defaultdict
from pathlib import Path

import pytest

from spa_gym.envs.webshop.actions import match_action, parse_action
from spa_gym.envs.webshop.pages import PAGES, option_targets, render_page, render_sub_page
from spa_gym.envs.webshop.session import SEARCH_PLACEHOLDER, ShopSession

NUM_PAGE_RECORDS = 84


@pytest.fixture(scope="module")
def records(webshop_fixtures: Path) -> list[dict]:
    with open(webshop_fixtures / "pages.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


@pytest.fixture(scope="module")
def catalog(records: list[dict]) -> dict[str, dict]:
    """Every product any recorded page shows, by asin."""
    return {product["asin"]: product for record in records for product in record["inputs"]["products"]}


def test_fixture_has_every_page_kind_in_both_modes(records: list[dict]) -> None:
    assert len(records) == NUM_PAGE_RECORDS
    assert {(record["page"], record["mode"]) for record in records} == {
        (page, mode) for page in PAGES for mode in ("text", "text_rich")
    }


@pytest.mark.parametrize("index", range(NUM_PAGE_RECORDS))
def test_renderer_reproduces_recorded_page(records: list[dict], index: int) -> None:
    record = records[index]
    inputs = record["inputs"]
    observation, available = render_page(
        record["page"],
        instruction_text=inputs["instruction_text"],
        products={product["asin"]: product for product in inputs["products"]},
        ranking=inputs["ranking"] or [],
        results_page=inputs["results_page"] or 1,
        asin=inputs["asin"],
        options=inputs["options"],
        keywords=inputs["keywords"] or [],
        visited_asins=set(inputs["visited_asins"]),
        show_attrs=inputs["show_attrs"],
        reward=inputs.get("reward"),
        mode=record["mode"],
    )
    assert observation == record["observation"]
    assert available == record["available_actions"]


def _scenarios(records: list[dict], mode: str) -> dict[str, list[dict]]:
    scenarios: dict[str, list[dict]] = defaultdict(list)
    for record in records:
        if record["mode"] == mode:
            scenarios[record["inputs"]["scenario"]].append(record)
    return {name: sorted(steps, key=lambda record: record["inputs"]["step"]) for name, steps in scenarios.items()}


@pytest.mark.parametrize("mode", ["text", "text_rich"])
def test_session_replays_recorded_episodes(records: list[dict], catalog: dict[str, dict], mode: str) -> None:
    replayed = 0
    for name, steps in _scenarios(records, mode).items():
        rankings = {" ".join(r["inputs"]["keywords"]): r["inputs"]["ranking"] for r in steps if r["inputs"]["keywords"]}
        rewards = [r["inputs"]["reward"] for r in steps if "reward" in r["inputs"]]
        first = steps[0]["inputs"]
        assert first["step"] == 0 and first["action_history"] == []
        session = ShopSession(
            first["instruction_text"], catalog, rankings.__getitem__, mode=mode, show_attrs=first["show_attrs"],
            reward_fn=lambda asin, options, rewards=rewards: rewards[0],
        )
        for record in steps:
            inputs = record["inputs"]
            if inputs["step"] > 0:
                assert len(inputs["action_history"]) == inputs["step"]
                assert session.step(inputs["action"]) is inputs["action_valid"], (
                    name, inputs["step"], inputs["action"])
            where = f"{name} step {inputs['step']} ({inputs['action']})"
            assert session.page == record["page"], where
            assert session.observation() == record["observation"], where
            assert session.available_actions() == record["available_actions"], where
            assert session.keywords == inputs["keywords"], where
            assert session.results_page == inputs["results_page"], where
            assert session.visited_asins == set(inputs["visited_asins"]), where
            if record["page"] == "done":
                assert session.bought and (session.purchased_asin, session.purchased_options) == (
                    inputs["asin"], inputs["options"]), where
            else:
                assert (session.asin, session.options) == (inputs["asin"], inputs["options"]), where
            replayed += 1
    assert replayed == NUM_PAGE_RECORDS // 2


# --- hand-made catalog for behaviour the recordings do not pin down -------------------------------

def _product(asin: str, title: str, options: dict | None = None) -> dict:
    return {"asin": asin, "name": title, "Title": title, "Price": "$10.0", "Rating": "N.A.", "Description": "Nice.",
            "BulletPoints": ["Good", "Cheap"], "Attributes": ["cheap"], "category": "garden", "query": "lamps",
            "product_category": "Home › Lamps", "options": options or {}, "pricing": [10.0]}


PRODUCTS = {f"B0000000{i:02d}": _product(f"B0000000{i:02d}", f"Lamp {i}", {"color": ["red", "blue"]})
            for i in range(23)}
PRODUCTS["B000000005"]["options"] = {"color": ["black", "features"], "style": ["black", "plain"]}


def _search(query: str) -> list[str]:
    return [] if "nothing" in query else list(PRODUCTS)


def _session(**flags) -> ShopSession:
    return ShopSession("i need a lamp", PRODUCTS, _search, **flags)


def _state(session: ShopSession) -> tuple:
    return (session.page, session.keywords, session.results_page, session.ranking, session.asin, dict(session.options),
            set(session.visited_asins), session.bought, session.observation(), session.available_actions())


def _at_item(asin: str = "b000000005", **flags) -> ShopSession:
    session = _session(**flags)
    assert session.step("search[lamp]") and session.step(f"click[{asin}]")
    return session


def test_parse_action_matches_the_original_regex() -> None:
    pattern = re.compile(r"(.+)\[(.+)\]")
    rng = random.Random(0)
    alphabet = "ab[]] [\nc"
    cases = ["click[a]", "search[]", "[x]", "a[b]c]d", "x[[y]]", "s[a\n]b]", "\n[a]", "a[\nb]", "q[b][c]"]
    cases += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(5000)]
    for action in cases:
        match = pattern.match(action)
        assert parse_action(action) == (match.groups() if match else (action, None)), repr(action)


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("click[Buy Now]", ("click", "buy now")),
        ("click[BUY NOW] right away", ("click", "buy now")),
        ("search[Red LAMP]", ("search", "red lamp")),
        ("search[ ]", ("search", " ")),
        ("click[search]", None),
        ("click[ buy now]", None),
        ("Click[buy now]", None),
        ("Search[lamp]", None),
        ("click [buy now]", None),
        ("search[]", None),
        ("buy now", None),
        ("click[buy\nnow]", None),
    ],
)
def test_match_action(action: str, expected: tuple | None) -> None:
    page = {"has_search_bar": False, "clickables": ["back to search", "buy now", "search"]}
    assert match_action(action, page) == expected


def test_clicks_are_case_insensitive_and_asins_lower_cased() -> None:
    session = _session()
    assert session.step("search[Lamp]")
    assert "b000000003" in session.available_actions()["clickables"]
    assert session.step("click[B000000003]") and session.asin == "B000000003"
    assert session.step("click[RED]") and session.options == {"color": "red"}
    assert session.step("click[Buy Now]") and session.bought


@pytest.mark.parametrize(
    ("setup", "action"),
    [
        ([], "click[search]"),
        ([], "click[back to search]"),
        (["search[lamp]"], "click[< prev]"),
        (["search[lamp]"], "click[b000000010]"),
        (["search[lamp]", "click[b000000005]"], "click[attributes]"),
        (["search[lamp]", "click[b000000005]"], "click[next >]"),
        (["search[lamp]", "click[b000000005]"], "click[red]"),
        (["search[lamp]", "click[b000000004]", "click[features]"], "click[features]"),
        (["search[lamp]", "click[b000000005]", "click[buy now]"], "click[buy now]"),
        (["search[lamp]"], "search[]"),
        (["search[lamp]"], "look around"),
    ],
)
def test_invalid_action_changes_nothing(setup: list[str], action: str) -> None:
    session = _session()
    for previous in setup:
        assert session.step(previous)
    before = _state(session)
    assert session.step(action) is False
    assert _state(session) == before


def test_results_paging_and_prev_quirks() -> None:
    session = _session()
    session.step("search[lamp]")
    assert session.observation().count(" [SEP] B0") == 10
    assert session.step("click[next >]") and session.step("click[next >]")
    assert session.results_page == 3 and session.observation().count(" [SEP] B0") == 3
    assert (session.step("click[next >]")
            and session.observation().endswith("Page 4 (Total results: 23) [SEP] < Prev [SEP] Next >"))
    assert session.step("click[< prev]") and session.results_page == 3
    assert session.step("search[nothing]") and session.available_actions()["clickables"] == ["back to search", "next >"]


def test_next_shown_only_while_hits_remain_when_quirk_is_off() -> None:
    session = _session(next_always_shown=False)
    session.step("search[lamp]")
    session.step("click[next >]")
    session.step("click[next >]")
    assert session.available_actions()["clickables"][:3] == ["back to search", "< prev", "b000000020"]
    assert session.step("click[next >]") is False
    assert session.step("search[nothing]") and session.available_actions()["clickables"] == ["back to search"]


def test_search_from_any_page_is_the_default_and_can_be_switched_off() -> None:
    session = _at_item()
    session.step("click[black]")
    assert session.step("search[another lamp]")
    assert (session.page, session.results_page, session.asin, session.options) == ("results", 1, None, {})
    assert session.visited_asins == {"B000000005"}
    strict = _at_item(search_from_any_page=False)
    assert strict.step("search[another lamp]") is False and strict.page == "item"
    assert strict.step("click[back to search]") and strict.step("search[another lamp]")
    assert strict.visited_asins == set()


def test_options_later_radio_wins_and_values_shadow_buttons() -> None:
    assert option_targets(PRODUCTS["B000000005"])["black"] == ("style", "black")
    session = _at_item()
    assert session.step("click[black]") and session.options == {"style": "black"}
    clickables = session.available_actions()["clickables"]
    assert clickables.count("features") == 1 and clickables.index("features") == 3
    assert session.step("click[features]") and session.page == "item"
    assert session.options == {"style": "black", "color": "features"}


def test_sub_pages_keep_options_and_prev_returns_to_item_then_results() -> None:
    session = _at_item("b000000004", show_attrs=True)
    session.step("click[blue]")
    for kind in ("description", "features", "reviews", "attributes"):
        assert session.step(f"click[{kind}]") and session.page == kind
        assert session.admissible_actions() == ["click[back to search]", "click[< prev]"]
        assert session.step("click[< prev]") and (session.page, session.options) == ("item", {"color": "blue"})
    assert session.step("click[< prev]") and (session.page, session.asin, session.options) == ("results", None, {})
    assert session.step("click[back to search]") and session.page == "search"
    assert (session.keywords, session.results_page, session.ranking, session.visited_asins) == (None, None, (), set())


def test_admissible_actions_per_page() -> None:
    session = _session()
    assert session.admissible_actions() == [SEARCH_PLACEHOLDER]
    session.step("search[lamp]")
    assert session.admissible_actions()[:3] == ["click[back to search]", "click[next >]", "click[b000000000]"]
    session.step("click[b000000005]")
    session.step("click[buy now]")
    assert session.admissible_actions() == []


def test_every_admissible_action_is_valid() -> None:
    rng = random.Random(1)
    session = _session(show_attrs=True)
    for _ in range(300):
        for action in session.admissible_actions():
            if action != SEARCH_PLACEHOLDER:
                assert session.copy().step(action), action
        actions = [a for a in session.admissible_actions() if a != SEARCH_PLACEHOLDER] or ["search[lamp]"]
        assert session.step(rng.choice(actions + ["search[lamp]"]))
        if session.page == "done":
            session = _session(show_attrs=True)


def test_done_page_shows_reward_from_reward_fn_or_setter() -> None:
    session = ShopSession("i need a lamp", PRODUCTS, _search, reward_fn=lambda asin, options: 0.5 if options else 0.25)
    session.step("search[lamp]")
    session.step("click[b000000001]")
    session.step("click[blue]")
    session.step("click[buy now]")
    assert session.reward == 0.5
    assert " [SEP] B000000001 [SEP] options [SEP] {\"color\": \"blue\"} [SEP] " in session.observation()
    assert session.observation().endswith("Your score (min 0.0, max 1.0) [SEP] 0.5 [SEP] Reward Details [SEP] None")
    session.reward = 1.0
    assert "[SEP] 1.0 [SEP] Reward Details" in session.observation()


def test_copy_is_independent() -> None:
    session = _at_item()
    clone = session.copy()
    clone.step("click[black]")
    clone.step("click[buy now]")
    assert (session.page, session.options, session.bought) == ("item", {}, False)
    assert (clone.page, clone.purchased_options, clone.bought) == ("done", {"style": "black"}, True)


def test_text_rich_marks_quoted_keyword_and_visited_asins() -> None:
    session = _session(mode="text_rich")
    session.step('search["black" lamp]')
    session.step("click[b000000005]")
    assert session.observation().startswith("You have clicked black.\nYou have clicked black.\nInstruction:\n")
    session.step("click[< prev]")
    assert "\n[clicked button] B000000005 [clicked button_]\n" in session.observation()


def test_sub_page_text_follows_the_html_parser_whitespace_rules() -> None:
    def description(text: str) -> str:
        return render_page("description", products={"B1": {"Description": text}}, asin="B1")[0]

    assert description("  Nice lamp.\n") == "Instruction: [SEP] Back to Search [SEP] < Prev [SEP] Nice lamp."
    assert description("   ") == "Instruction: [SEP] Back to Search [SEP] < Prev [SEP] "  # an empty segment
    assert description(" \n ") == description("") == "Instruction: [SEP] Back to Search [SEP] < Prev"
    rich = render_page("features", products={"B1": {"BulletPoints": ["Warm", ""]}}, asin="B1", mode="text_rich")[0]
    assert rich == "Instruction:\n[button] Back to Search [button_]\n[button] < Prev [button_]\n Warm\n \n"


def test_non_str_action_raises_type_error() -> None:
    with pytest.raises(TypeError, match="must be a str"):
        _session().step(None)  # type: ignore[arg-type]


def test_bad_render_arguments_raise_value_error() -> None:
    with pytest.raises(ValueError, match="unknown page 'cart'"):
        render_page("cart")
    with pytest.raises(ValueError, match="unknown observation mode 'html'"):
        render_page("search", mode="html")
    with pytest.raises(ValueError, match="ranking names asin 'B999' on page 1"):
        render_page("results", products=PRODUCTS, ranking=["B999"])
    with pytest.raises(ValueError, match="unknown sub-page 'cart'"):
        render_sub_page("", {}, "cart")
    with pytest.raises(ValueError, match="needs the asin of a product"):
        render_page("item", products=PRODUCTS, asin="B999")
    with pytest.raises(ValueError, match="unknown observation mode"):
        ShopSession("x", PRODUCTS, _search, mode="url")


def test_fuzzed_actions_never_raise_and_keep_state_consistent() -> None:
    rng = random.Random(2)
    alphabet = "[]ab <>prev\nnext\u00e9\u4e2d\U0001f600\x00search click"
    huge = 1 << 20
    actions = [
        "", " ", "[" * huge, "]" * huge, "click[" + "]" * huge, "search[" + "[" * huge + "]",
        "search[" + "lamp " * (huge // 5) + "]", "click[" + "x" * huge + "]", "\ud800", "search[\ud800]",
        *("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(2000)),
        *(rng.choice(["click[", "search["]) + "".join(rng.choice(alphabet) for _ in range(8)) + "]"
          for _ in range(500)),
    ]
    for mode in ("text", "text_rich"):
        session = _at_item(mode=mode)
        for action in actions:
            before = _state(session)
            valid = session.step(action)
            assert session.page in PAGES
            assert isinstance(session.observation(), str)
            if not valid:
                assert _state(session) == before
            for admissible in session.admissible_actions():
                if admissible != SEARCH_PLACEHOLDER:
                    assert match_action(admissible, session.available_actions()) is not None
