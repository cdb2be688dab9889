"""Title-noun extraction for WebShop's type reward (the ``title_score`` of ``get_type_reward``).

The original runs spaCy on the purchased and the goal product names and keeps the tokens tagged
``NOUN`` or ``PROPN`` (its tag list also names ``PNOUN``, which spaCy never produces). spaCy and its
models are not a dependency here, so extraction is pluggable:

* :class:`SpacyNounExtractor`: exact parity, used only when ``spacy`` and a model package
  (``en_core_web_lg``, as ETO/IPR/SPA-RL load, or ``en_core_web_sm``, as WebShop HEAD loads) are importable;
  spaCy is imported lazily, on the first call.
* :class:`HeuristicNounExtractor`: every alphabetic run of the title (``[A-Za-z]+``) except one-letter
  runs and the English function words of :data:`FUNCTION_WORDS`. It keeps adjectives and verbs that
  spaCy would drop, so its scores only approximate spaCy's.
* precomputed lists (the generated catalog stores its nouns per product), passed to the reward directly.

An extractor is any callable ``title -> list[str]``; a ``name`` attribute, when present, is what the
reward reports as the backend. Nouns are returned as they appear in the title (the reward lower-cases).

Example:
    >>> HeuristicNounExtractor()("Bexley On-Ear Headphones for Kids, White")
    ['Bexley', 'Ear', 'Headphones', 'Kids', 'White']
    >>> resolve_noun_extractor("heuristic").name
    'heuristic'
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from collections.abc import Callable
from functools import cache
from typing import Any, Protocol, runtime_checkable

SPACY_MODELS: tuple[str, ...] = ("en_core_web_lg", "en_core_web_sm")
"""spaCy models tried by :func:`default_noun_extractor`, in order of preference."""

NOUN_TAGS: frozenset[str] = frozenset({"NOUN", "PROPN"})
"""The spaCy ``pos_`` tags the original keeps."""

FUNCTION_WORDS: frozenset[str] = frozenset(
    """
    a about above across after against all along also am among an and another any are around as at
    be because been before behind being below beneath beside besides between beyond both but by
    can cannot could did do does doing down during each either else every few for from further
    had has have having he her here hers him his how i if in inside into is it its itself
    just less like may me might mine more most much must my near neither no nor not of off on
    once only onto or other our ours out outside over own per plus same she should since so some
    such than that the their theirs them then there these they this those though through
    throughout till to too toward towards under underneath unlike until up upon us very via was
    we were what when where whether which while who whom whose why will with within without would
    yet you your yours
    """.split()
)
"""Lower-case words the heuristic never counts as nouns (articles, prepositions, pronouns, ...)."""

_ALPHA_RUN = re.compile(r"[A-Za-z]+")


@runtime_checkable
class NounExtractor(Protocol):
    """Maps a product title to its nouns (with repeats, in title order), as spaCy's NOUN/PROPN tokens."""

    name: str

    def __call__(self, title: str) -> list[str]: ...


class HeuristicNounExtractor:
    """Alphabetic runs of the title minus one-letter runs and :data:`FUNCTION_WORDS` (case-insensitive).

    >>> HeuristicNounExtractor()("Women's Slip-On Loafers with a Memory Foam Insole")
    ['Women', 'Slip', 'Loafers', 'Memory', 'Foam', 'Insole']
    """

    name = "heuristic"

    def __call__(self, title: str) -> list[str]:
        return [w for w in _ALPHA_RUN.findall(title) if len(w) > 1 and w.lower() not in FUNCTION_WORDS]


class SpacyNounExtractor:
    """spaCy's ``NOUN``/``PROPN`` tokens of the title, as the original ``get_type_reward`` takes them.

    The model is loaded on the first call (once per process and model); a missing ``spacy`` or model
    raises ``ImportError`` saying what to install.

    >>> SpacyNounExtractor("en_core_web_sm").name
    'spacy:en_core_web_sm'
    """

    def __init__(self, model: str = "en_core_web_lg") -> None:
        self.model = model
        self.name = f"spacy:{model}"

    def __call__(self, title: str) -> list[str]:
        return [token.text for token in _load_spacy(self.model)(title) if token.pos_ in NOUN_TAGS]


@cache
def _load_spacy(model: str) -> Any:
    if not spacy_available(model):
        raise ImportError(
            f"spaCy noun extraction needs the packages 'spacy' and {model!r} "
            f"(pip install spacy && python -m spacy download {model}); "
            "or use the 'heuristic' extractor, or pass the title nouns explicitly"
        )
    return importlib.import_module("spacy").load(model)


def spacy_available(model: str) -> bool:
    """Whether ``spacy`` and the model package ``model`` can be imported (without importing them).

    >>> spacy_available("no_such_spacy_model")
    False
    """
    return importlib.util.find_spec("spacy") is not None and importlib.util.find_spec(model) is not None


@cache
def default_noun_extractor() -> NounExtractor:
    """spaCy with the first installed model of :data:`SPACY_MODELS`, else the heuristic (cached).

    >>> default_noun_extractor().name in ("heuristic", "spacy:en_core_web_lg", "spacy:en_core_web_sm")
    True
    """
    for model in SPACY_MODELS:
        if spacy_available(model):
            return SpacyNounExtractor(model)
    return HeuristicNounExtractor()


def resolve_noun_extractor(spec: str | Callable[[str], list[str]] | None = None) -> Callable[[str], list[str]]:
    """An extractor from a spec: ``None``/``"auto"`` (the default), ``"heuristic"``, ``"spacy"`` (first
    installed model, else ``ImportError``), ``"spacy:<model>"``, or a callable (returned as is).

    >>> resolve_noun_extractor("spacy:en_core_web_sm").model
    'en_core_web_sm'
    """
    if spec is None or spec == "auto":
        return default_noun_extractor()
    if callable(spec):
        return spec
    if spec == "heuristic":
        return HeuristicNounExtractor()
    if spec == "spacy":
        for model in SPACY_MODELS:
            if spacy_available(model):
                return SpacyNounExtractor(model)
        raise ImportError(f"no spaCy model installed; expected 'spacy' and one of {', '.join(SPACY_MODELS)}")
    if isinstance(spec, str) and spec.startswith("spacy:") and len(spec) > len("spacy:"):
        return SpacyNounExtractor(spec[len("spacy:") :])
    raise ValueError(
        f"unknown noun extractor {spec!r}; expected None, 'auto', 'heuristic', 'spacy', 'spacy:<model>' or a callable"
    )


def extractor_name(extractor: Callable[[str], list[str]]) -> str:
    """The backend name reported for ``extractor``: its ``name`` attribute, else its qualified name.

    >>> extractor_name(HeuristicNounExtractor()), extractor_name(str.split)
    ('heuristic', 'str.split')
    """
    name = getattr(extractor, "name", None)
    if isinstance(name, str):
        return name
    return getattr(extractor, "__qualname__", type(extractor).__qualname__)
