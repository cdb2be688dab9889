"""LLMPolicy and TokenConversation: exact ids, log-probs, values, LoRA reference, save/load."""

from __future__ import annotations

import pytest
import torch

from spa_gym.agents.conversation import TokenConversation
from spa_gym.agents.policy import Generation, LLMPolicy
from spa_gym.training.tiny import tiny_model_path


@pytest.fixture(scope="module")
def policy() -> LLMPolicy:
    torch.manual_seed(0)
    return LLMPolicy.from_pretrained(tiny_model_path())


def test_token_logprobs_match_a_manual_softmax(policy: LLMPolicy) -> None:
    ids = torch.tensor([policy.tokenizer.encode("go to desk 1 <|end|>")])
    mask = torch.ones_like(ids)
    logprobs, values = policy.token_logprobs(ids, mask)
    logits = policy.model(input_ids=ids).logits[0]
    manual = [0.0] + [float(torch.log_softmax(logits[i], -1)[ids[0, i + 1]]) for i in range(ids.shape[1] - 1)]
    torch.testing.assert_close(logprobs[0], torch.tensor(manual), atol=1e-5, rtol=0)
    assert values.shape == ids.shape and float(values.abs().max()) == 0.0  # the value head starts at zero


def test_generation_keeps_ids_and_stops_at_a_stop_token(policy: LLMPolicy) -> None:
    prompt = policy.tokenizer.encode("<|user|> You are in the middle of a room. <|end|> <|assistant|>")
    torch.manual_seed(1)
    first = policy.generate([prompt, prompt[:5]], max_new_tokens=6, do_sample=True)
    torch.manual_seed(1)
    again = policy.generate([prompt, prompt[:5]], max_new_tokens=6, do_sample=True)
    assert [g.ids for g in first] == [g.ids for g in again]
    for g in first:
        assert 1 <= len(g.ids) <= 6
        assert g.stopped == (g.ids[-1] in policy.stop_token_ids)
        assert all(t not in policy.stop_token_ids for t in g.ids[:-1])
    # the ids are scored as they are: their log-probs under the policy are finite
    ids = torch.tensor([prompt + first[0].ids])
    logprobs, _ = policy.token_logprobs(ids, torch.ones_like(ids))
    assert torch.isfinite(logprobs).all()


def test_lora_reference_and_round_trip(tmp_path) -> None:
    from peft import LoraConfig

    lora = LLMPolicy.from_pretrained(tiny_model_path(), lora=LoraConfig(r=4, target_modules=["q_proj", "v_proj"]))
    with torch.no_grad():
        for name, p in lora.named_parameters():
            if "lora_B" in name:
                p.add_(0.1)
        lora.value_head.bias.fill_(0.25)
    ids = torch.tensor([lora.tokenizer.encode("take mug 1 from countertop 1")])
    mask = torch.ones_like(ids)
    with torch.no_grad():
        tuned, values = lora.token_logprobs(ids, mask)
        with lora.reference():
            reference, _ = lora.token_logprobs(ids, mask)
        plain, _ = LLMPolicy.from_pretrained(tiny_model_path()).token_logprobs(ids, mask)
    torch.testing.assert_close(reference, plain)  # adapter off = the base model
    assert not torch.allclose(tuned, reference)
    lora.save_pretrained(tmp_path / "policy")
    loaded = LLMPolicy.from_pretrained(tmp_path / "policy")
    with torch.no_grad():
        again, loaded_values = loaded.token_logprobs(ids, mask)
    torch.testing.assert_close(again, tuned)
    torch.testing.assert_close(loaded_values, values)
    with pytest.raises(RuntimeError, match="no built-in reference"):
        with LLMPolicy.from_pretrained(tiny_model_path()).reference():
            pass


def test_conversation_rejects_templates_that_are_not_prefix_stable(policy: LLMPolicy) -> None:
    class Shifty:
        """Renders the turn count up front, so every new turn changes the first token."""

        def apply_chat_template(self, messages, add_generation_prompt, tokenize):
            return [len(messages)] + [7] * len(messages) + ([9] if add_generation_prompt else [])

        def encode(self, text, add_special_tokens):
            return [7]

    talk = TokenConversation(Shifty(), [{"role": "user", "content": "hi"}])
    with pytest.raises(ValueError, match="not prefix-stable"):  # found when the first turn is closed
        talk.add_action(Generation([5, 6], "x", True))


def test_conversation_closes_a_cut_action_with_the_turn_end(policy: LLMPolicy) -> None:
    tokenizer = policy.tokenizer
    talk = TokenConversation(tokenizer, [{"role": "user", "content": "You see a desk 1."}])
    talk.add_action(Generation(tokenizer.encode("go to desk"), "go to desk", False))
    talk.add_observation("Nothing happens.")
    assert tokenizer.decode(talk.ids) == (
        "<|user|> You see a desk 1. <|end|> <|assistant|> go to desk <|end|> <|user|> Nothing happens. <|end|> "
        "<|assistant|>"
    )
    start, end = talk.action_spans[0]
    assert tokenizer.decode(talk.ids[start:end]) == "go to desk"


@pytest.mark.parametrize("damage", [
    lambda f: (f / "spa_policy.json").write_text("{not json"),
    lambda f: (f / "value_head.safetensors").write_bytes(b"garbage"),
    lambda f: (f / "model" / "model.safetensors").write_bytes(b"garbage"),
    lambda f: (f / "model" / "model.safetensors").unlink(),
], ids=["config", "value-head", "weights", "weights-missing"])
def test_a_corrupted_policy_folder_gives_one_error_naming_it(tmp_path, damage) -> None:
    from spa_gym.training.checkpoints import CheckpointError

    folder = tmp_path / "policy"
    LLMPolicy.from_pretrained(tiny_model_path()).save_pretrained(folder)
    damage(folder)
    with pytest.raises(CheckpointError) as raised:
        LLMPolicy.from_pretrained(folder)
    assert str(raised.value).startswith(f"cannot load the policy at {folder}: ") and "\n" not in str(raised.value)


@pytest.mark.parametrize("model", ["tiny", "smollm2-135m"])
@pytest.mark.parametrize("stopped", [True, False])
def test_conversation_ids_are_the_chat_templates_own(model: str, stopped: bool) -> None:
    """Whether the model stopped (its turn-end token generated) or was cut short, the episode's ids equal
    the chat template's rendering of the same messages (ChatML: ``<|im_end|>`` and the newline after it)."""
    from transformers import AutoTokenizer

    from spa_gym.agents.conversation import template_ids
    from spa_gym.training import ModelNotInstalledError, resolve_model

    try:
        tokenizer = AutoTokenizer.from_pretrained(resolve_model(model, "SPA-ALFWorld-v0"))
    except (ModelNotInstalledError, ImportError):
        pytest.skip(f"{model} is not installed (see the README's set-up)")
    talk = TokenConversation(tokenizer, [{"role": "system", "content": "Act."}, {"role": "user", "content": "a room"}])
    for action, answer in [("go to desk 1", "You arrive at desk 1."), ("look", "You see nothing.")]:
        ids = tokenizer.encode(action, add_special_tokens=False) + ([talk.closing_ids[0]] if stopped else [])
        talk.add_action(Generation(ids, action, stopped))
        talk.add_observation(answer)
    assert talk.ids == template_ids(tokenizer, talk.messages, add_generation_prompt=True)
    assert [tokenizer.decode(talk.ids[start:end], skip_special_tokens=True) for start, end in talk.action_spans] == [
        "go to desk 1", "look"]
