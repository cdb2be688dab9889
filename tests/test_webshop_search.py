"""The offline WebShop search: Lucene-like analyzer, BM25 ranking, sharing and the disk cache."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from spa_gym.envs.webshop import search as search_module
from spa_gym.envs.webshop.search import SearchIndex, analyze, default_cache_dir, document_text, tokenize


@pytest.fixture(autouse=True)
def fresh_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SearchIndex, "_shared", {})


def _product(asin: str, title: str, **fields) -> dict:
    return {"asin": asin, "Title": title, "Description": "", "BulletPoints": [], "options": {}, **fields}


#: Hand-made catalog; BM25 (k1 0.9, b 0.4, avgdl 2.5) worked out by hand in test_ranking_exact_order.
CATALOG = [
    _product("P0", "red lamp shade"),
    _product("P1", "red red lamp"),
    _product("P2", "blue lamp"),
    _product("P3", "red sofa"),
    _product("P4", "red lamp shade"),
    _product("P5", "green chair"),
]


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("Women's Slip-On Loafers, 6.5 US", ["Women's", "Slip", "On", "Loafers", "6.5", "US"]),
        ("1,000.50 $9.99 3-pack 12x 9.5wide", ["1,000.50", "9.99", "3", "pack", "12x", "9.5wide"]),
        (
            "e.g. www.amazon.com rock'n'roll l'eau 'quoted' dummy_attr __init__",
            ["e.g", "www.amazon.com", "rock'n'roll", "l'eau", "quoted", "dummy_attr", "__init__"],
        ),
        ("a b c 1 2 中文abc カタカナ", ["a", "b", "c", "1", "2", "中", "文", "abc", "カタカナ"]),
        ("color:black color: black", ["color:black", "color", "black"]),
        ("", []),
        ("-- $ % ()", []),
    ],
)
def test_tokenize(text: str, tokens: list[str]) -> None:
    assert tokenize(text) == tokens


def test_tokenize_cuts_long_tokens_at_255() -> None:
    assert tokenize("a" * 300) == ["a" * 255, "a" * 45]


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("The Women's shoes are for running, and it's 9.5 in size", ["women", "shoe", "run", "9.5", "size"]),
        ("us xs gas", ["us", "xs", "ga"]),  # 1-2 letter words are not stemmed (Lucene's Porter), 'gas' is
        ("A Boy\u2019s TOYS", ["boi", "toi"]),
        (
            (
                "a an and are as at be but by for if in into is it no not of on or such that the their then there "
                "these they this to was will with"
            ),
            [],
        ),
    ],
)
def test_analyze(text: str, terms: list[str]) -> None:
    assert analyze(text) == terms


def test_document_text_is_the_original_contents() -> None:
    product = _product("B1", "Lamp", Description="Bright LIGHT.", BulletPoints=["Warm", "Cheap"],
                       options={"color": ["red", "navy blue"], "size": ["s"]})
    assert document_text(product) == "lamp bright light. warm color: red, navy blue, and size: s"
    assert document_text(_product("B2", "Lamp")) == "lamp   "


def test_ranking_exact_order() -> None:
    # idf(red) = idf(lamp) = ln(1 + 2.5/4.5); tf part tf/(tf + 0.9*(0.6 + 0.4*dl/2.5)):
    # P1 2/2.972 + 1/1.972 > P0 = P4 = 2/1.972 > P2 = P3 = 1/1.828; P5 has neither term.
    index = SearchIndex(CATALOG)
    assert index.search("red lamp") == ["P1", "P0", "P4", "P2", "P3"]
    assert index.search("RED Lamps!") == ["P1", "P0", "P4", "P2", "P3"]
    # Shorter documents win on a single term; a repeated query term only scales scores.
    assert index.search("lamp") == index.search("lamp lamp") == ["P2", "P0", "P1", "P4"]
    assert index.search("sofa chair") == ["P3", "P5"]
    assert index.search("red lamp", k=2) == ["P1", "P0"]
    assert index.search("the and of") == index.search("purple") == index.search("") == []


def test_scores_follow_lucene_bm25() -> None:
    # Pyserini's LuceneSearcher (k1 0.9, b 0.4) scores with Lucene 8+'s BM25Similarity, which has no
    # (k1 + 1) factor in the numerator:
    #   idf(t) * tf / (tf + k1 * (1 - b + b * dl / avgdl)),  idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5))
    # CATALOG: N = 6, avgdl = 15 / 6 = 2.5; dl = 3 -> k1 * 1.08 = 0.972, dl = 2 -> k1 * 0.92 = 0.828.
    index = SearchIndex(CATALOG)

    def scores(*terms: str) -> list[float]:
        return [float(s) for s in index._bm25.get_scores_from_ids([index._bm25.vocab_dict[t] for t in terms])]

    idf_4 = math.log(14 / 9)  # red, lamp: df 4 -> 0.4418327523
    idf_2 = math.log(2.8)  # shade: df 2 -> 1.0296194172
    idf_1 = math.log(1 + 5.5 / 1.5)  # sofa: df 1 -> 1.5404450409
    assert (idf_4, idf_2, idf_1) == pytest.approx((0.4418327523, 1.0296194172, 1.5404450409), abs=1e-10)
    red_1_of_3, red_2_of_3, red_1_of_2 = idf_4 * 1 / 1.972, idf_4 * 2 / 2.972, idf_4 * 1 / 1.828
    assert (red_1_of_3, red_2_of_3, red_1_of_2) == pytest.approx((0.2240531198, 0.2973302505, 0.2417028185), abs=1e-9)
    # bm25s keeps float32 scores: 1e-6 relative absorbs float32 rounding (~6e-8) and is far below the 1.9x
    # (k1 + 1) scale of the pre-Lucene-8 formula. Lucene's lossy length encoding is exact for lengths 2 and 3,
    # so these are also the scores Lucene itself gives this corpus.
    float32 = {"rel": 1e-6, "abs": 1e-7}
    assert scores("red") == pytest.approx([red_1_of_3, red_2_of_3, 0.0, red_1_of_2, red_1_of_3, 0.0], **float32)
    assert scores("lamp") == pytest.approx([red_1_of_3, red_1_of_3, red_1_of_2, 0.0, red_1_of_3, 0.0], **float32)
    assert scores("red", "lamp") == pytest.approx(
        [2 * red_1_of_3, red_2_of_3 + red_1_of_3, red_1_of_2, red_1_of_2, 2 * red_1_of_3, 0.0], **float32)
    assert scores("shade") == pytest.approx([idf_2 / 1.972, 0.0, 0.0, 0.0, idf_2 / 1.972, 0.0], **float32)
    assert scores("sofa") == pytest.approx([0.0, 0.0, 0.0, idf_1 / 1.828, 0.0, 0.0], **float32)
    assert scores("sofa")[3] == pytest.approx(0.8426942237, **float32)


def test_ties_break_by_catalog_order_even_at_the_cut() -> None:
    products = [_product(f"T{i:02d}", "same lamp") for i in range(60)]
    assert SearchIndex(products).search("lamp") == [f"T{i:02d}" for i in range(50)]
    assert SearchIndex(products[::-1]).search("lamp") == [f"T{i:02d}" for i in range(59, 9, -1)]
    mixed = [*products[:30], _product("BEST", "lamp"), *products[30:]]
    assert SearchIndex(mixed).search("lamp", k=3) == ["BEST", "T00", "T01"]


def test_call_gives_top_50_and_empty_catalog_finds_nothing() -> None:
    products = [_product(f"T{i:02d}", "lamp") for i in range(70)]
    assert len(SearchIndex(products)("lamp")) == 50
    assert SearchIndex([]).search("lamp") == []


def test_shared_returns_one_object_per_key(tmp_path: Path) -> None:
    first = SearchIndex.shared("catalog", CATALOG, cache_dir=tmp_path)
    assert SearchIndex.shared("catalog", CATALOG, cache_dir=tmp_path) is first
    assert SearchIndex.shared("other", CATALOG, cache_dir=tmp_path) is not first
    with pytest.raises(ValueError, match="first built for another catalog"):
        SearchIndex.shared("catalog", CATALOG[:3], cache_dir=tmp_path)


def test_disk_cache_round_trip_gives_identical_rankings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    built = SearchIndex.shared("built", CATALOG, cache_dir=tmp_path)
    folders = list(tmp_path.iterdir())
    assert len(folders) == 1 and folders[0].name.startswith("bm25-")  # no staging folder left behind

    def no_build(*args, **kwargs):
        raise AssertionError("the cached index should have been loaded, not rebuilt")

    monkeypatch.setattr(SearchIndex, "_build", staticmethod(no_build))
    loaded = SearchIndex.shared("loaded", CATALOG, cache_dir=tmp_path)
    assert loaded is not built
    for query in ("red lamp", "lamp", "sofa chair", "shade", "nothing"):
        assert loaded.search(query) == built.search(query)


def test_cache_is_keyed_by_content_and_incomplete_folders_are_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    SearchIndex.shared("a", CATALOG, cache_dir=tmp_path)
    [catalog_folder] = tmp_path.iterdir()
    SearchIndex.shared("b", [*CATALOG[:5], _product("P5", "green armchair")], cache_dir=tmp_path)
    folders = sorted(tmp_path.iterdir())
    assert len(folders) == 2
    (catalog_folder / "asins.json").unlink()  # as if a copy had been cut short
    builds = []
    build = SearchIndex._build
    monkeypatch.setattr(SearchIndex, "_build", staticmethod(lambda *args: builds.append(1) or build(*args)))
    rebuilt = SearchIndex.shared("c", CATALOG, cache_dir=tmp_path)
    assert builds == [1] and rebuilt.search("red lamp") == ["P1", "P0", "P4", "P2", "P3"]
    assert sorted(tmp_path.iterdir()) == folders
    assert all((folder / "asins.json").is_file() for folder in folders)


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SPA_GYM_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "webshop"
    monkeypatch.delenv("SPA_GYM_HOME")
    assert default_cache_dir() == Path.home() / ".cache" / "spa_gym" / "webshop"


def test_analyzer_version_is_part_of_the_cache_key(monkeypatch: pytest.MonkeyPatch) -> None:
    asins, documents = ["P0"], ["red lamp"]
    before = search_module._catalog_hash(asins, documents)
    monkeypatch.setattr(search_module, "ANALYZER_VERSION", search_module.ANALYZER_VERSION + 1)
    assert search_module._catalog_hash(asins, documents) != before


def test_any_query_is_answered() -> None:
    index = SearchIndex(CATALOG)
    queries = ["", " ", "\ud800lamp\udfff", "\x00red\uffff", "\U0001f600 lamp", "[" * (1 << 20), "lamp " * (1 << 18)]
    answers = [index.search(query) for query in queries]
    assert answers[:2] == [[], []] and answers[5] == []
    assert answers[2] == answers[4] == answers[6] == ["P2", "P0", "P1", "P4"]
    assert answers[3] == ["P1", "P3", "P0", "P4"]  # red: tf 2 in 3 terms > tf 1 in 2 > tf 1 in 3


@pytest.mark.parametrize("damage", ["truncated array", "garbage vocabulary", "another catalog's asins", "cut params"])
def test_a_damaged_cache_is_rebuilt_with_a_warning_naming_it(
    damage: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = SearchIndex.shared("first", CATALOG, cache_dir=tmp_path).search("red lamp")
    [folder] = tmp_path.iterdir()
    if damage == "truncated array":
        array = folder / "data.csc.index.npy"
        array.write_bytes(array.read_bytes()[:-8])
    elif damage == "garbage vocabulary":
        (folder / "vocab.index.json").write_text("\x00\x01 not json")
    elif damage == "another catalog's asins":
        (folder / "asins.json").write_text('["X0", "X1"]')
    else:
        params = folder / "params.index.json"
        params.write_text(params.read_text()[:5])
    builds = []
    build = SearchIndex._build
    monkeypatch.setattr(SearchIndex, "_build", staticmethod(lambda *args: builds.append(1) or build(*args)))
    with pytest.warns(UserWarning, match=f"the WebShop search index cache in {folder} is unreadable"):
        rebuilt = SearchIndex.shared("second", CATALOG, cache_dir=tmp_path)
    assert builds == [1] and rebuilt.search("red lamp") == expected
    monkeypatch.setattr(SearchIndex, "_build", staticmethod(lambda *args: pytest.fail("rebuilt twice")))
    assert SearchIndex.shared("third", CATALOG, cache_dir=tmp_path).search("red lamp") == expected  # cached again
