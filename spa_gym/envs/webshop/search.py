"""WebShop's product search offline: BM25 over the original's index documents, with a Lucene-like analyzer.

The original asks pyserini (Lucene) for the top 50 hits of the query: BM25 with k1=0.9, b=0.4
over one document per product whose ``contents`` is the lower-cased join of Title, Description,
the first bullet point and an options string (``color: black, white, and size: 8, 9``), analysed
by Lucene's English analyzer. Here bm25s (``method="lucene"``) scores the same documents, and
:func:`analyze` imitates the analyzer: StandardTokenizer-like word splitting (UAX#29 rules for
Latin text: ``9.5``, ``1,000``, ``women's``, ``u.s.a`` and ``dummy_attr`` stay whole, one-letter
tokens are kept, hyphens split, each CJK ideograph is a token, tokens over 255 characters are cut),
the English possessive filter (``'s``), lower-casing, the 33-word Lucene English stop set and the
Porter stemmer (PyStemmer ``porter``; like Lucene's, it leaves words of 1-2 letters alone).
Ties are broken by catalog order, as Lucene breaks them by document number. Not reproduced:
Lucene's lossy encoding of document lengths and its emoji and South-East-Asian token types.

:meth:`SearchIndex.shared` keeps one index per key per process (every env copy shares it) and
caches built indexes on disk under ``$SPA_GYM_HOME/webshop`` (default ``~/.cache/spa_gym/webshop``),
keyed by a hash of the indexed text, written to a temporary folder and renamed into place.

Example:
    >>> analyze("Women's Slip-On Loafers, size 9.5 and the USB_C port")
    ['women', 'slip', 'loafer', 'size', '9.5', 'usb_c', 'port']
    >>> index = SearchIndex([
    ...     {"asin": "B01", "Title": "Red Lamp", "Description": "", "BulletPoints": [], "options": {}},
    ...     {"asin": "B02", "Title": "Blue Lamp", "Description": "a lamp", "BulletPoints": [],
    ...      "options": {"color": ["red"]}},
    ... ])
    >>> index.search("red lamps")
    ['B01', 'B02']
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import threading
import warnings
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

import bm25s
import numpy as np
import Stemmer

#: Lucene's ``EnglishAnalyzer.ENGLISH_STOP_WORDS_SET``.
ENGLISH_STOP_WORDS = frozenset(
    (
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it", "no",
        "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these", "they", "this", "to",
        "was", "will", "with",
    )
)
#: Bumped whenever :func:`analyze` or the document text change, so that disk caches are rebuilt.
ANALYZER_VERSION = 1
#: Lucene StandardTokenizer's default maximum token length (longer tokens are cut into pieces).
MAX_TOKEN_LENGTH = 255

_IDEOGRAPHS = "\u3040-\u309f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_LETTER = rf"[^\W\d_{_IDEOGRAPHS}]"
_ALNUM = rf"[^\W_{_IDEOGRAPHS}]"
_EXTEND_NUM_LET = "[_\u203f\u2040\u2054\ufe33\ufe34\ufe4d-\ufe4f\uff3f]"
_EXTEND = "[\u0300-\u036f\u00ad\u200c\u200d]"
_MID_NUM_LET = ".\u2018\u2019\u2024\ufe52\uff07\uff0e'"
_MID_LETTER = f"[:\u00b7\u0387\u05f4\u2027\ufe13\ufe55\uff1a{_MID_NUM_LET}]"
_MID_NUM = f"[,;\u037e\u0589\u060c\u060d\u066c\u07f8\u2044\ufe10\ufe14\ufe50\ufe54\uff0c\uff1b{_MID_NUM_LET}]"
_TOKEN = re.compile(
    rf"[{_IDEOGRAPHS}]|{_EXTEND_NUM_LET}*{_ALNUM}+"
    rf"(?:{_ALNUM}+|{_EXTEND_NUM_LET}+|{_EXTEND}+|(?<={_LETTER}){_MID_LETTER}(?={_LETTER})|(?<=\d){_MID_NUM}(?=\d))*"
)
_APOSTROPHES = ("'", "\u2019", "\uff07")
_STEMMER = Stemmer.Stemmer("porter")
_STEMMER_LOCK = threading.Lock()


def tokenize(text: str) -> list[str]:
    """Split ``text`` into words as Lucene's StandardTokenizer does (case kept).

    Example:
        >>> tokenize("L'eau d'Issey 6.76 fl oz (1,000 ml), $12.50 - U.S.A. e-mail")
        ["L'eau", "d'Issey", '6.76', 'fl', 'oz', '1,000', 'ml', '12.50', 'U.S.A', 'e', 'mail']
    """
    tokens = []
    for token in _TOKEN.findall(text):
        if len(token) <= MAX_TOKEN_LENGTH:
            tokens.append(token)
        else:
            tokens.extend(token[i : i + MAX_TOKEN_LENGTH] for i in range(0, len(token), MAX_TOKEN_LENGTH))
    return tokens


@lru_cache(maxsize=1 << 16)
def _term(token: str) -> str:
    """A token through the possessive filter, lower-casing, stop words ('' if dropped) and Porter."""
    if len(token) >= 2 and token[-1] in "sS" and token[-2] in _APOSTROPHES:
        token = token[:-2]
    token = token.lower()
    if not token or token in ENGLISH_STOP_WORDS:
        return ""
    if len(token) <= 2:
        return token
    with _STEMMER_LOCK:
        return _STEMMER.stemWord(token)


def analyze(text: str) -> list[str]:
    """The index terms of ``text``: tokens, possessives dropped, lower-cased, stop words dropped, stemmed.

    Example:
        >>> analyze("The Kids' shoes are running shoes for a boy's feet")
        ['kid', 'shoe', 'run', 'shoe', 'boi', 'feet']
    """
    return [term for term in map(_term, tokenize(text)) if term]


def document_text(product: Mapping[str, Any]) -> str:
    """The ``contents`` the original indexes for a product (loader format).

    Example:
        >>> document_text({"Title": "Lamp", "Description": "Bright.", "BulletPoints": ["Warm", "Cheap"],
        ...                "options": {"color": ["red", "blue"], "size": ["s"]}})
        'lamp bright. warm color: red, blue, and size: s'
    """
    bullets = product.get("BulletPoints") or [""]
    first_bullet = bullets if isinstance(bullets, str) else bullets[0]
    options = product.get("options") or {}
    option_text = ", and ".join(f"{name}: {', '.join(values)}" for name, values in options.items())
    parts = (product.get("Title") or "", product.get("Description") or "", first_bullet or "", option_text)
    return " ".join(str(part) for part in parts).lower()


class SearchIndex:
    """BM25 over the products' index documents; :meth:`search` gives ranked asins.

    Args:
        products: products in the original loader's format (``asin`` plus the indexed fields);
            their order is the catalog order that breaks ties.
        k1, b: BM25 parameters (pyserini's defaults).
    """

    _shared: ClassVar[dict[str, SearchIndex]] = {}
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, products: Sequence[Mapping[str, Any]], *, k1: float = 0.9, b: float = 0.4) -> None:
        self.k1, self.b = k1, b
        self.asins = [product["asin"] for product in products]
        self._bm25 = self._build([document_text(product) for product in products], k1, b)

    @staticmethod
    def _build(documents: Sequence[str], k1: float, b: float) -> bm25s.BM25 | None:
        if not documents:
            return None
        vocab: dict[str, int] = {}
        corpus_ids = [[vocab.setdefault(term, len(vocab)) for term in analyze(text)] for text in documents]
        bm25 = bm25s.BM25(k1=k1, b=b, method="lucene")
        bm25.index((corpus_ids, vocab), show_progress=False)
        return bm25

    def __len__(self) -> int:
        return len(self.asins)

    def search(self, query: str, k: int = 50) -> list[str]:
        """The asins of the (at most) ``k`` best-scoring products that share a term with ``query``.

        Example:
            >>> index = SearchIndex([{"asin": "B1", "Title": "a lamp"}, {"asin": "B2", "Title": "a lamp"}])
            >>> index.search("LAMP"), index.search("the"), index.search("sofa")
            (['B1', 'B2'], [], [])
        """
        if self._bm25 is None or k <= 0:
            return []
        vocab = self._bm25.vocab_dict
        ids = [vocab[term] for term in analyze(query) if term in vocab]
        if not ids:
            return []
        scores = self._bm25.get_scores_from_ids(ids)
        hits = np.flatnonzero(scores > 0)
        if hits.size > k:
            hit_scores = scores[hits]
            kth_best = np.partition(hit_scores, hits.size - k)[hits.size - k]
            hits = hits[hit_scores >= kth_best]
        order = np.argsort(-scores[hits], kind="stable")[:k]
        return [self.asins[i] for i in hits[order]]

    def __call__(self, query: str) -> list[str]:
        """``search(query)`` with the original's 50 hits: handy as a :class:`ShopSession` search function."""
        return self.search(query)

    @classmethod
    def shared(
        cls, key: str, products: Sequence[Mapping[str, Any]], cache_dir: Path | str | None = None
    ) -> SearchIndex:
        """The process-wide index for ``key``: built (or read from the disk cache) once, then reused.

        A later call with the same key returns the same object; it must pass the same catalog
        (checked by its size and end asins). The disk cache is keyed by a hash of the indexed text.

        Example:
            >>> import tempfile
            >>> products = [{"asin": "B1", "Title": "red lamp"}]
            >>> with tempfile.TemporaryDirectory() as folder:
            ...     index = SearchIndex.shared("doctest-catalog", products, cache_dir=folder)
            ...     same = SearchIndex.shared("doctest-catalog", products, cache_dir=folder)
            >>> index is same, index.search("lamp")
            (True, ['B1'])
        """
        with cls._shared_lock:
            index = cls._shared.get(key)
            if index is None:
                index = cls._load_or_build(products, Path(cache_dir) if cache_dir is not None else default_cache_dir())
                cls._shared[key] = index
            elif len(index) != len(products) or (
                products and (index.asins[0], index.asins[-1]) != (products[0]["asin"], products[-1]["asin"])
            ):
                raise ValueError(
                    f"SearchIndex.shared({key!r}) was first built for another catalog ({len(index)} products, "
                    f"now {len(products)}): use one key per catalog"
                )
            return index

    @classmethod
    def _load_or_build(cls, products: Sequence[Mapping[str, Any]], cache_dir: Path) -> SearchIndex:
        documents = [document_text(product) for product in products]
        asins = [product["asin"] for product in products]
        folder = cache_dir / f"bm25-{_catalog_hash(asins, documents)}"
        index = cls.__new__(cls)
        index.k1, index.b, index.asins = 0.9, 0.4, asins
        if (folder / _ASINS_FILE).is_file():
            try:
                index._bm25 = _load(folder, asins)
                return index
            except Exception as error:  # a damaged cache costs a rebuild, never the env
                warnings.warn(f"the WebShop search index cache in {folder} is unreadable "
                              f"({type(error).__name__}: {error}); rebuilding it", stacklevel=2)
                shutil.rmtree(folder, ignore_errors=True)
        index._bm25 = cls._build(documents, index.k1, index.b)
        try:
            _save(index, folder)
        except OSError as error:  # a read-only or full cache folder costs speed, not the index
            warnings.warn(f"cannot cache the WebShop search index in {folder} ({error}); it is kept in memory only",
                          stacklevel=2)
        return index


_ASINS_FILE = "asins.json"


def default_cache_dir() -> Path:
    """``$SPA_GYM_HOME/webshop``, by default ``~/.cache/spa_gym/webshop``."""
    home = os.environ.get("SPA_GYM_HOME")
    return (Path(home) if home else Path.home() / ".cache" / "spa_gym") / "webshop"


def _catalog_hash(asins: Sequence[str], documents: Sequence[str]) -> str:
    digest = hashlib.sha256(f"analyzer={ANALYZER_VERSION};bm25s={bm25s.__version__};k1=0.9;b=0.4\n".encode())
    for asin, text in zip(asins, documents):
        digest.update(f"{asin}\t{text}\n".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:32]


def _load(folder: Path, asins: list[str]) -> bm25s.BM25 | None:
    """The index cached in ``folder``, checked against the catalog's asins and its own shape."""
    if json.loads((folder / _ASINS_FILE).read_text(encoding="utf-8")) != asins:
        raise ValueError("it was written for another catalog")
    if not asins:
        return None
    bm25 = bm25s.BM25.load(folder, mmap=True, show_progress=False)
    scores = bm25.scores
    if not (int(scores["indptr"][-1]) == len(scores["data"]) == len(scores["indices"])
            and scores["num_docs"] == len(asins)):
        raise ValueError("its arrays do not fit together or the catalog")
    return bm25


def _save(index: SearchIndex, folder: Path) -> None:
    """Write the index to ``folder`` atomically: a complete folder appears, or none."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        if index._bm25 is not None:
            index._bm25.save(staging, show_progress=False)
        # Written last: its presence marks a complete cache folder.
        (staging / _ASINS_FILE).write_text(json.dumps(index.asins), encoding="utf-8")
        if folder.exists() and not (folder / _ASINS_FILE).is_file():
            shutil.rmtree(folder)  # left incomplete by something else than this function
        os.rename(staging, folder)
    except OSError:
        if not (folder / _ASINS_FILE).is_file():
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
