"""thefuzz-compatible ``token_set_ratio``, as WebShop's reward calls it (``fuzz.token_set_ratio(a, b)``).

Two backends reproduce the two thefuzz generations that WebShop users ran:

* ``"rapidfuzz"`` (default): thefuzz >= 0.20, which ETO, IPR and SPA-RL install. Each input is turned
  into a string with ``str()`` (a tuple becomes ``"('size', 'x-large')"``), the code points 128-255 are
  dropped, rapidfuzz's ``default_process`` runs (every non-alphanumeric character, ``_`` included,
  becomes a space; lower-case; trim), rapidfuzz's ``token_set_ratio`` scores it and the score is rounded
  with Python's ``round`` (ties to even).
* ``"difflib"``: thefuzz 0.19 without python-Levenshtein, the original WebShop pin. Same ``str()`` and
  128-255 filter, then every ``\\W`` character becomes a space (so ``_`` is *kept*: ``DUMMY_ATTR`` is one
  token), lower-case, strip; the token-set construction of fuzzywuzzy, scored by
  ``difflib.SequenceMatcher(None, a, b).ratio()`` (asymmetric, with difflib's matching-block heuristic)
  and rounded per comparison.

Both return 100 when one token set contains the other, and 0 when either input is ``None`` or has no
token after processing.

Example:
    >>> token_set_ratio("DUMMY_ATTR", "attr"), token_set_ratio("DUMMY_ATTR", "attr", backend="difflib")
    (100, 57)
    >>> token_set_ratio("large", ("size", "x-large"))
    100
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from typing import Any

from rapidfuzz import fuzz as _rf_fuzz
from rapidfuzz.utils import default_process as _rf_default_process

FUZZ_BACKENDS: tuple[str, ...] = ("rapidfuzz", "difflib")
"""The accepted ``backend`` names."""

# thefuzz's "ascii only" step deletes exactly the code points 128..255 (Latin-1 supplement); characters
# above 255 (e.g. "›") pass through to the next step.
_LATIN1_HIGH = dict.fromkeys(range(128, 256))
_NON_WORD = re.compile(r"\W", re.UNICODE)


def _ascii_only(value: Any) -> str:
    return str(value).translate(_LATIN1_HIGH)


def full_process(value: Any, backend: str = "rapidfuzz") -> str:
    """The string thefuzz compares for ``value`` (default ``force_ascii=True`` processing).

    >>> full_process(("size", "x-large")), full_process("Dummy_Attr", backend="difflib")
    ('size    x large', 'dummy_attr')
    """
    _check_backend(backend)
    text = _ascii_only(value)
    if backend == "rapidfuzz":
        return _rf_default_process(text)
    return _NON_WORD.sub(" ", text).lower().strip()


def ratio(a: str, b: str) -> int:
    """thefuzz 0.19 ``fuzz.ratio`` on difflib (no processing): ``round(100 * SequenceMatcher.ratio())``.

    >>> ratio("essential oil", "essential oils")
    96
    """
    if a == b:
        return 100
    if not a or not b:
        return 0
    return round(100 * SequenceMatcher(None, a, b).ratio())


def token_set_ratio(a: Any, b: Any, backend: str = "rapidfuzz") -> int:
    """``thefuzz.fuzz.token_set_ratio(a, b)`` with default arguments, as an ``int`` in 0..100.

    >>> token_set_ratio("9.5", "9"), token_set_ratio("m", "medium"), token_set_ratio("xx-large", ("size", "x-large"))
    (100, 29, 77)
    """
    _check_backend(backend)
    if a is None or b is None:
        return 0
    pa, pb = full_process(a, backend), full_process(b, backend)
    if backend == "rapidfuzz":
        return round(_rf_fuzz.token_set_ratio(pa, pb))
    return _difflib_token_set_ratio(pa, pb)


def _difflib_token_set_ratio(pa: str, pb: str) -> int:
    """fuzzywuzzy's token-set score on already processed strings, with the difflib ``ratio``."""
    tokens_a, tokens_b = set(pa.split()), set(pb.split())
    if not tokens_a or not tokens_b:
        return 0
    common = " ".join(sorted(tokens_a & tokens_b))
    only_a = " ".join(sorted(tokens_a - tokens_b))
    only_b = " ".join(sorted(tokens_b - tokens_a))
    with_a = (common + " " + only_a).strip()
    with_b = (common + " " + only_b).strip()
    common = common.strip()
    return max(ratio(common, with_a), ratio(common, with_b), ratio(with_a, with_b))


def _check_backend(backend: str) -> None:
    if backend not in FUZZ_BACKENDS:
        raise ValueError(f"unknown fuzz backend {backend!r}; expected one of {', '.join(FUZZ_BACKENDS)}")
