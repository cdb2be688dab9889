"""A tiny Hugging Face causal LM with a word-level tokenizer, built locally from the envs' own text.

It is the CPU backbone of the progress estimator and of the LLM agent in tests, examples and
smoke runs: nothing is downloaded, the folder is an ordinary transformers model folder, and the
build is deterministic (same texts and seed -> same vocabulary and same weights).

Example:
    >>> import tempfile
    >>> import torch
    >>> from transformers import AutoModelForCausalLM, AutoTokenizer
    >>> path = build_tiny_model(tempfile.mkdtemp(), ["go to cabinet 1", "put apple 1 in/on cabinet 1"])
    >>> tokenizer = AutoTokenizer.from_pretrained(path)
    >>> ids = tokenizer.encode("put apple 1 in/on cabinet 1")
    >>> tokenizer.convert_ids_to_tokens(ids)
    ['put', 'apple', '1', 'in/on', 'cabinet', '1']
    >>> tokenizer.decode(ids)
    'put apple 1 in/on cabinet 1'
    >>> tokenizer.convert_ids_to_tokens(tokenizer.encode("put banana 1"))
    ['put', '<|unk|>', '1']
    >>> model = AutoModelForCausalLM.from_pretrained(path)
    >>> model(input_ids=torch.tensor([ids])).logits.shape == (1, 6, len(tokenizer))
    True
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch
import transformers
from tokenizers import AddedToken, Tokenizer, models, pre_tokenizers

from ..envs.base import TextEnv

#: Special tokens of the tiny tokenizer, by name. Their ids are 0, 1, 2, ... in this order.
SPECIAL_TOKENS: dict[str, str] = {
    "pad": "<|pad|>",
    "unk": "<|unk|>",
    "bos": "<|bos|>",
    "eos": "<|eos|>",
    "task": "<|task|>",
    "action": "<|action|>",
    "observation": "<|observation|>",
    "end": "<|end|>",
    "system": "<|system|>",
    "user": "<|user|>",
    "assistant": "<|assistant|>",
}

#: Renders ``[{"role": ..., "content": ...}]`` as ``<|system|> ... <|end|> <|user|> ... <|end|> ...``,
#: single-spaced so that the word-level tokenizer reads it back exactly.
CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{%- if not loop.first %} {% endif -%}"
    "<|{{ message['role'] }}|> {{ message['content'] | trim }} <|end|>"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{%- if messages %} {% endif -%}<|assistant|>{%- endif -%}"
)

#: Words of ReAct prompts and of an agent's thoughts, added to every vocabulary.
AGENT_WORDS = (
    "Thought: Action: Observation: Task: Thought Action Observation think: "
    "I you it this that need to think should first find then next now go take put open check "
    "look for the a an and or in on at with is are am will can have has done found not "
    "so because after before where which it. it, there. here. done. yes no OK "
    "hot cold cool clean heat sliced light agent agent. task task."
)

#: Trailing punctuation that may be glued to an env word (``"1."``, ``"apple,"``).
_PUNCTUATION = ".,:;!?"


def spa_gym_home() -> Path:
    """Where spa-gym caches built models: ``$SPA_GYM_HOME``, by default ``~/.cache/spa_gym``."""
    return Path(os.environ.get("SPA_GYM_HOME") or Path.home() / ".cache" / "spa_gym")


#: Bumped whenever the default tiny model's texts or settings change, so old caches are not reused.
TINY_VERSION = 3

#: The envs (id, or id and ``gym.make`` kwargs) whose text the default tokenizer covers.
DEFAULT_ENVS: tuple[str | tuple[str, dict], ...] = ("SPA-ALFWorld-v0", ("SPA-ALFWorld-v0", {"grammar": "2.1.3"}))

def webshop_catalog_texts() -> Iterator[str]:
    """What WebShop pages show of each product of the default catalog: asin (and its lower-cased
    ``click[...]`` form), title, price, option values, description and bullet points."""
    from ..envs.webshop import generated_catalog

    for product in generated_catalog().products:
        asin = product["asin"]
        yield f"{asin} {asin.lower()} click[{asin.lower()}] {product['Price']}"
        yield product["Title"]
        yield " ".join(value for values in product["options"].values() for value in values)
        yield " ".join([product["Description"], *product["BulletPoints"]])


@dataclass(frozen=True)
class TinyTexts:
    """What an env's tiny tokenizer is built from: ``episodes`` episodes per env of ``envs``
    (:func:`env_texts`), then the texts of ``extra`` if given."""

    envs: tuple[str | tuple[str, dict], ...]
    episodes: int = 200
    extra: Callable[[], Iterable[str]] | None = None

    def __iter__(self) -> Iterator[str]:
        yield from env_texts(self.envs, self.episodes)
        if self.extra is not None:
            yield from self.extra()


#: The other envs' tiny models, each with its own vocabulary: one shared word-level vocabulary
#: would hold WebShop's product titles (15.8k words against ALFWorld's 0.9k), an 18x larger output
#: layer for every env. WebShop plays fewer episodes and adds its catalog's words instead.
ENV_TINY_TEXTS: dict[str, TinyTexts] = {
    "SPA-WebShop-v0": TinyTexts(("SPA-WebShop-v0",), 40, webshop_catalog_texts),
    "SPA-VirtualHome-v0": TinyTexts(("SPA-VirtualHome-v0",)),
}

#: Where :func:`tiny_model_path` caches the default tiny model: ``$SPA_GYM_HOME/tiny-v<TINY_VERSION>``
#: (as at import; ``SPA_GYM_HOME`` defaults to ``~/.cache/spa_gym``; :func:`tiny_model_path` re-reads it).
TINY_DEFAULT_DIR: Path = spa_gym_home() / f"tiny-v{TINY_VERSION}"


def _episode_texts(env: gym.Env, rng: np.random.Generator, options: dict, expert: bool) -> Iterator[str]:
    """Task, observations and admissible commands of one expert (or random-admissible) episode."""
    obs, info = env.reset(seed=int(rng.integers(2**31)), options=options)
    yield info.get("task", "")
    yield obs
    for step in range(1000):  # the step limit ends episodes far sooner; this guards envs without one
        admissible = list(info.get("admissible_actions", []))
        yield from admissible
        if expert:
            action = env.unwrapped.expert_action()
        elif step % 5 == 4:
            action = ""  # an invalid command, so the env's answer to one ("Nothing happens.") is covered
        else:
            action = admissible[int(rng.integers(len(admissible)))] if admissible else None
        if action is None:
            return
        yield action
        obs, _, terminated, truncated, info = env.step(action)
        yield obs
        if terminated or truncated:
            return


def env_texts(
    env_ids: Sequence[str | tuple[str, dict]] = DEFAULT_ENVS, episodes_per_env: int = 200, seed: int = 0
) -> Iterator[str]:
    """Texts that cover the envs' vocabulary, for :func:`build_tokenizer`.

    Per env: the task text, observations and admissible commands of ``episodes_per_env`` expert
    episodes (when the env has ``expert_action()``) and as many random-admissible ones, over tasks
    spread evenly across the env's suite. Then every word seen with and without a trailing ``.``
    and ``,`` (so "tvstand." is known when only "tvstand" was seen; likewise the numbers 0-99), and
    :data:`AGENT_WORDS` (ReAct's "Thought:" "Action:" "Observation:" and common thought words).
    """
    import spa_gym  # noqa: F401  (registers the env ids)

    rng = np.random.default_rng(seed)
    cores: set[str] = set()
    for spec in env_ids:
        env_id, kwargs = (spec, {}) if isinstance(spec, str) else spec
        env = gym.make(env_id, **kwargs)
        try:
            unwrapped = env.unwrapped
            if not isinstance(unwrapped, TextEnv):
                raise TypeError(f"{env_id} is not a spa-gym text env")
            for episode in range(episodes_per_env):
                options = {"task_index": (episode * unwrapped.num_tasks()) // episodes_per_env}
                for expert in (True, False) if unwrapped.has_expert else (False,):
                    for text in _episode_texts(env, rng, options, expert):
                        cores.update(word.rstrip(_PUNCTUATION) for word in text.split())
                        yield text
        finally:
            env.close()
    cores.discard("")
    cores.update(str(number) for number in range(100))
    yield " ".join(f"{core} {core}. {core}," for core in sorted(cores))
    yield AGENT_WORDS


def build_tokenizer(texts: Iterable[str], min_frequency: int = 1) -> transformers.PreTrainedTokenizerFast:
    """A word-level tokenizer over ``texts``: every whitespace-separated word seen at least
    ``min_frequency`` times is one token; other words become ``<|unk|>``.

    Ids: the :data:`SPECIAL_TOKENS` first, then words by decreasing frequency, ties alphabetically.
    ``decode`` joins tokens with single spaces, so ``decode(encode(s)) == s`` for a single-spaced
    ``s`` of known words. Nothing is added by ``encode`` (no bos/eos); :data:`CHAT_TEMPLATE` is set.
    """
    splitter = pre_tokenizers.WhitespaceSplit()
    counts: Counter[str] = Counter()
    for text, times in Counter(texts).items():  # env texts repeat a lot: split each distinct one once
        for word, _ in splitter.pre_tokenize_str(text):
            counts[word] += times
    specials = list(SPECIAL_TOKENS.values())
    kept = (word for word, count in counts.items() if count >= min_frequency and word not in specials)
    words = sorted(kept, key=lambda word: (-counts[word], word))
    vocab = {token: index for index, token in enumerate(specials + words)}

    backend = Tokenizer(models.WordLevel(vocab, unk_token=SPECIAL_TOKENS["unk"]))
    backend.pre_tokenizer = splitter
    backend.add_special_tokens([AddedToken(token, special=True, normalized=False) for token in specials])
    names = ("pad", "unk", "bos", "eos")
    return transformers.PreTrainedTokenizerFast(
        tokenizer_object=backend,
        **{f"{name}_token": SPECIAL_TOKENS[name] for name in names},
        additional_special_tokens=[token for name, token in SPECIAL_TOKENS.items() if name not in names],
        clean_up_tokenization_spaces=False,
        chat_template=CHAT_TEMPLATE,
        model_max_length=4096,
    )


def build_tiny_model(
    out_dir: str | os.PathLike,
    texts: Iterable[str] | None = None,
    *,
    hidden_size: int = 64,
    num_layers: int = 2,
    num_heads: int = 4,
    intermediate_size: int = 128,
    max_position_embeddings: int = 4096,
    seed: int = 0,
) -> Path:
    """Build the tokenizer (from ``texts``, default :func:`env_texts`) and a randomly initialised
    ``LlamaForCausalLM`` (tied embeddings, seeded with ``torch.manual_seed(seed)``), and save both
    into ``out_dir`` (safetensors). Returns ``out_dir`` as a :class:`~pathlib.Path`.

    The generation config stops at ``<|eos|>`` or ``<|end|>`` (the end of a chat turn).
    """
    out = Path(out_dir)
    tokenizer = build_tokenizer(env_texts() if texts is None else texts)
    ids = {name: tokenizer.convert_tokens_to_ids(token) for name, token in SPECIAL_TOKENS.items()}
    config = transformers.LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        num_key_value_heads=num_heads,
        intermediate_size=intermediate_size,
        max_position_embeddings=max_position_embeddings,
        pad_token_id=ids["pad"],
        bos_token_id=ids["bos"],
        eos_token_id=ids["eos"],
        tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    model = transformers.LlamaForCausalLM(config)
    model.generation_config.eos_token_id = [ids["eos"], ids["end"]]
    model.generation_config.pad_token_id = ids["pad"]
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    return out


def is_tiny_model(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a folder of a tiny model (its tokenizer has the tiny special tokens)."""
    config = Path(path) / "tokenizer_config.json"
    try:
        return SPECIAL_TOKENS["observation"] in config.read_text()
    except OSError:
        return False


def _is_built(path: Path) -> bool:
    return all((path / name).is_file() for name in ("config.json", "model.safetensors", "tokenizer.json"))


def tiny_model_path(env_id: str | None = None, rebuild: bool = False) -> Path:
    """Path of the tiny model for ``env_id``, building it on first use or when ``rebuild``.

    ``None`` or ``"SPA-ALFWorld-v0"``: the default model (``$SPA_GYM_HOME/tiny-v<N>``, covering
    :data:`DEFAULT_ENVS`); an id of :data:`ENV_TINY_TEXTS`: that env's model
    (``$SPA_GYM_HOME/tiny-v<N>-<env>``). It is built in a temporary folder beside it and renamed
    into place, so a crash never leaves a half-written model and concurrent first uses agree on
    one folder.
    """
    if env_id is None or env_id == "SPA-ALFWorld-v0":
        final, texts = spa_gym_home() / f"tiny-v{TINY_VERSION}", None
    elif env_id in ENV_TINY_TEXTS:
        slug = env_id.removeprefix("SPA-").removesuffix("-v0").lower()
        final, texts = spa_gym_home() / f"tiny-v{TINY_VERSION}-{slug}", iter(ENV_TINY_TEXTS[env_id])
    else:
        known = ["SPA-ALFWorld-v0", *ENV_TINY_TEXTS]
        raise ValueError(f"no tiny model for env id {env_id!r}; tiny models exist for {known}")
    if _is_built(final) and not rebuild:
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".tiny-build-", dir=final.parent))
    trash = None
    try:
        build_tiny_model(staging, texts)
        if final.exists():
            trash = Path(tempfile.mkdtemp(prefix=".tiny-old-", dir=final.parent)) / final.name
            try:
                final.rename(trash)
            except FileNotFoundError:  # someone else moved it away meanwhile
                trash = None
        try:
            staging.rename(final)
        except OSError:
            if not _is_built(final):  # lost a race to a concurrent build only if that one finished
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if trash is not None:
            shutil.rmtree(trash.parent, ignore_errors=True)
    return final
