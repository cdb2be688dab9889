"""The tiny local causal LM and its word-level tokenizer (spa_gym.training.tiny)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer

import spa_gym  # noqa: F401  (registers the env ids)
from spa_gym.training import tiny
from spa_gym.training.tiny import (
    SPECIAL_TOKENS,
    TINY_VERSION,
    build_tiny_model,
    build_tokenizer,
    env_texts,
    tiny_model_path,
)

SMALL_TEXTS = ["go to cabinet 1", "put apple 1 in/on cabinet 1", "Nothing happens."]


@pytest.fixture(scope="module")
def default_dir(tmp_path_factory) -> Path:
    """The default build (env_texts() over ALFWorld), in a temp folder."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture(scope="module")
def tokenizer(default_dir):
    return AutoTokenizer.from_pretrained(default_dir)


def alfworld_commands(num_tasks: int = 6) -> set[str]:
    """Admissible commands seen along expert and random episodes of a few valid_seen tasks."""
    env = gym.make("SPA-ALFWorld-v0", split="valid_seen")
    rng = np.random.default_rng(0)
    commands: set[str] = set()
    for index in range(num_tasks):
        for expert in (True, False):
            _, info = env.reset(options={"task_index": index})
            for _ in range(40):
                commands.update(info["admissible_actions"])
                admissible = info["admissible_actions"]
                random_action = admissible[int(rng.integers(len(admissible)))]
                action = env.unwrapped.expert_action() if expert else random_action
                if action is None:
                    break
                _, _, terminated, truncated, info = env.step(action)
                if terminated or truncated:
                    break
    return commands


def test_round_trip_of_every_alfworld_admissible_command(tokenizer):
    commands = alfworld_commands()
    assert len(commands) > 100
    unk = tokenizer.unk_token_id
    for command in sorted(commands):
        ids = tokenizer.encode(command)
        assert unk not in ids, command
        assert tokenizer.decode(ids) == command
        assert tokenizer.convert_ids_to_tokens(ids) == command.split()


def test_whole_words_and_unknown_words(tokenizer):
    ids = tokenizer.encode("put apple 1 in/on countertop 1")
    assert tokenizer.convert_ids_to_tokens(ids) == ["put", "apple", "1", "in/on", "countertop", "1"]
    assert tokenizer.convert_ids_to_tokens(tokenizer.encode("loc 50.")) == ["loc", "50."]
    ids = tokenizer.encode("take zyzzyva 1")
    take, one = tokenizer.convert_tokens_to_ids(["take", "1"])
    assert ids == [take, tokenizer.unk_token_id, one]
    assert tokenizer.unk_token_id == 1
    assert tokenizer.decode(ids) == "take <|unk|> 1"
    for word in ("Thought:", "Action:", "Observation:", "I", "need", "to", "think", "should", "first", "find", "then"):
        assert tokenizer.convert_tokens_to_ids(word) != tokenizer.unk_token_id, word


def test_special_tokens(tokenizer):
    assert list(SPECIAL_TOKENS.values())[:4] == ["<|pad|>", "<|unk|>", "<|bos|>", "<|eos|>"]
    for index, token in enumerate(SPECIAL_TOKENS.values()):
        assert tokenizer.convert_tokens_to_ids(token) == index
        assert token in tokenizer.all_special_tokens
        assert tokenizer.encode(token) == [index]
    assert (tokenizer.pad_token, tokenizer.unk_token, tokenizer.bos_token, tokenizer.eos_token) == (
        "<|pad|>",
        "<|unk|>",
        "<|bos|>",
        "<|eos|>",
    )
    ids = (tokenizer.pad_token_id, tokenizer.unk_token_id, tokenizer.bos_token_id, tokenizer.eos_token_id)
    assert ids == (0, 1, 2, 3)
    # special tokens are found even when glued to words; encode adds nothing
    end, task = SPECIAL_TOKENS["end"], SPECIAL_TOKENS["task"]
    assert tokenizer.convert_ids_to_tokens(tokenizer.encode(f"{task}look{end}")) == [task, "look", end]
    assert tokenizer.decode(tokenizer.encode(f"{task} look {end}"), skip_special_tokens=True) == "look"


def test_vocab_is_frequency_then_alphabetical():
    tok = build_tokenizer(["b a b c c", "zeta"], min_frequency=1)
    first = len(SPECIAL_TOKENS)
    assert tok.convert_tokens_to_ids(["b", "c", "a", "zeta"]) == [first, first + 1, first + 2, first + 3]
    assert len(tok) == first + 4
    rare = build_tokenizer(["b a b c c", "zeta"], min_frequency=2)
    assert len(rare) == first + 2
    assert rare.convert_tokens_to_ids("a") == rare.unk_token_id


def test_chat_template(tokenizer):
    messages = [
        {"role": "system", "content": "You are an agent."},
        {"role": "user", "content": "go to cabinet 1"},
        {"role": "assistant", "content": "Thought: I need to look. Action: look"},
    ]
    text = tokenizer.apply_chat_template(messages, tokenize=False)
    assert text == (
        "<|system|> You are an agent. <|end|> <|user|> go to cabinet 1 <|end|> "
        "<|assistant|> Thought: I need to look. Action: look <|end|>"
    )
    prompt = tokenizer.apply_chat_template(messages[:2], tokenize=False, add_generation_prompt=True)
    assert prompt == "<|system|> You are an agent. <|end|> <|user|> go to cabinet 1 <|end|> <|assistant|>"
    ids = tokenizer.apply_chat_template(messages[:2], add_generation_prompt=True)
    ids = ids["input_ids"] if not isinstance(ids, list) else ids
    assert ids == tokenizer.encode(prompt)
    assert tokenizer.decode(ids) == prompt


def test_saved_folder_loads_and_runs(default_dir, tokenizer):
    names = {p.name for p in default_dir.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"} <= names
    model = AutoModelForCausalLM.from_pretrained(default_dir)
    config = model.config
    assert config.model_type == "llama"
    sizes = (config.hidden_size, config.num_hidden_layers, config.num_attention_heads, config.intermediate_size)
    assert sizes == (64, 2, 4, 128)
    assert config.vocab_size == len(tokenizer)
    assert (config.pad_token_id, config.bos_token_id, config.eos_token_id) == (0, 2, 3)
    assert config.tie_word_embeddings
    assert model.get_output_embeddings().weight.data_ptr() == model.get_input_embeddings().weight.data_ptr()
    assert model.generation_config.eos_token_id == [3, tokenizer.convert_tokens_to_ids("<|end|>")]
    ids = tokenizer.encode("go to cabinet 1")
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([ids])).logits
    assert logits.shape == (1, len(ids), len(tokenizer))
    assert torch.isfinite(logits).all()


def test_same_seed_same_weights(tmp_path):
    a = build_tiny_model(tmp_path / "a", SMALL_TEXTS, seed=3)
    b = build_tiny_model(tmp_path / "b", SMALL_TEXTS, seed=3)
    c = build_tiny_model(tmp_path / "c", SMALL_TEXTS, seed=4)
    for name in ("model.safetensors", "tokenizer.json", "config.json"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    wa, wc = load_file(a / "model.safetensors"), load_file(c / "model.safetensors")
    assert wa.keys() == wc.keys()
    assert not torch.equal(wa["model.embed_tokens.weight"], wc["model.embed_tokens.weight"])
    assert (a / "tokenizer.json").read_bytes() == (c / "tokenizer.json").read_bytes()


def test_env_texts_is_deterministic_and_covers_react_words():
    first = list(env_texts(episodes_per_env=3, seed=1))
    assert first == list(env_texts(episodes_per_env=3, seed=1))
    words = {word for text in first for word in text.split()}
    assert {"Thought:", "Action:", "Observation:", "look", "inventory", "1.", "1,"} <= words


def test_tiny_model_path_builds_atomically(tmp_path, monkeypatch):
    monkeypatch.setenv("SPA_GYM_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(tiny, "env_texts", lambda: iter(SMALL_TEXTS))
    path = tiny_model_path()
    assert path == tmp_path / "home" / f"tiny-v{TINY_VERSION}"
    assert sorted(p.name for p in path.parent.iterdir()) == [f"tiny-v{TINY_VERSION}"]  # no staging left over
    loaded = AutoTokenizer.from_pretrained(path)
    assert loaded.decode(loaded.encode("go to cabinet 1")) == "go to cabinet 1"
    weights = (path / "model.safetensors").read_bytes()

    def crash(out_dir, *args, **kwargs):
        Path(out_dir, "config.json").write_text("{half")
        raise RuntimeError("crash mid-build")

    monkeypatch.setattr(tiny, "build_tiny_model", crash)
    assert tiny_model_path() == path  # built already: no rebuild
    with pytest.raises(RuntimeError, match="crash mid-build"):
        tiny_model_path(rebuild=True)
    assert sorted(p.name for p in path.parent.iterdir()) == [f"tiny-v{TINY_VERSION}"]
    assert (path / "model.safetensors").read_bytes() == weights  # the old model is untouched

    monkeypatch.setenv("SPA_GYM_HOME", str(tmp_path / "fresh"))
    with pytest.raises(RuntimeError, match="crash mid-build"):
        tiny_model_path()
    assert list((tmp_path / "fresh").iterdir()) == []  # no half-written model

    monkeypatch.undo()
    monkeypatch.setenv("SPA_GYM_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(tiny, "env_texts", lambda: iter(SMALL_TEXTS + ["more words here"]))
    rebuilt = tiny_model_path(rebuild=True)
    assert rebuilt == path
    assert AutoTokenizer.from_pretrained(path).convert_tokens_to_ids("more") != 1
    assert sorted(p.name for p in path.parent.iterdir()) == [f"tiny-v{TINY_VERSION}"]


def test_other_envs_get_their_own_tiny_model(tmp_path, monkeypatch):
    monkeypatch.setenv("SPA_GYM_HOME", str(tmp_path))
    calls = []

    def texts(specs, episodes):
        calls.append((specs, episodes))
        return iter(SMALL_TEXTS + ["add to cart"])

    monkeypatch.setattr(tiny, "env_texts", texts)
    webshop = tiny.ENV_TINY_TEXTS["SPA-WebShop-v0"]
    monkeypatch.setitem(tiny.ENV_TINY_TEXTS, "SPA-WebShop-v0",
                        replace(webshop, extra=lambda: iter(["B0ABCDEFGH click[b0abcdefgh]"])))
    path = tiny_model_path("SPA-WebShop-v0")
    assert path == tmp_path / f"tiny-v{TINY_VERSION}-webshop"
    assert calls == [(("SPA-WebShop-v0",), 40)]
    assert {"cart", "click[b0abcdefgh]"} <= set(AutoTokenizer.from_pretrained(path).get_vocab())
    assert tiny_model_path("SPA-WebShop-v0") == path and len(calls) == 1  # cached
    assert tiny_model_path("SPA-VirtualHome-v0") == tmp_path / f"tiny-v{TINY_VERSION}-virtualhome"
    with pytest.raises(ValueError, match=r"no tiny model for env id 'Nope-v0'"):
        tiny_model_path("Nope-v0")


def test_env_texts_cover_webshop_and_virtualhome():
    words = {word for text in env_texts(["SPA-WebShop-v0", "SPA-VirtualHome-v0"], episodes_per_env=2)
             for word in text.split()}
    assert {"[SEP]", "Instruction:", "click[buy", "now]", "Nothing", "happens.", "Walk", "toilet"} <= words
