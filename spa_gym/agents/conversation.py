"""A multi-turn episode as one token sequence, built without ever re-tokenising generated text.

The opening messages go through the tokenizer's chat template once. Each action appends the ids
the policy generated, verbatim, and records their span (these are the only tokens the policy
loss trains). Each observation appends the template's continuation: the tokens the template puts
between the end of the assistant turn and the start of the next generation. It is computed as a
difference of two renderings, and the template must be prefix-stable (rendering more messages
only appends tokens); a template that is not raises a clear error instead of silently
mis-aligning tokens.

Example:
    >>> from transformers import AutoTokenizer
    >>> from spa_gym.training.tiny import tiny_model_path
    >>> from spa_gym.agents.policy import Generation
    >>> tokenizer = AutoTokenizer.from_pretrained(tiny_model_path())
    >>> talk = TokenConversation(tokenizer, [{"role": "user", "content": "You are in the middle of a room."}])
    >>> end = tokenizer.convert_tokens_to_ids("<|end|>")
    >>> talk.add_action(Generation(tokenizer.encode("look") + [end], "look", True))
    >>> talk.add_observation("You see nothing.")
    >>> tokenizer.decode(talk.ids)
    '<|user|> You are in the middle of a room. <|end|> <|assistant|> look <|end|> <|user|> You see nothing. <|end|> <|assistant|>'
    >>> talk.action_spans
    [(11, 13)]

A history window (verl-agent's ``history_length``) shows the policy the opening messages and only
the last ``k`` turns (each an action and the observation that answered it, the last one being the
current observation). It is cut from the same ids, so it is exactly what the chat template renders
for the shortened message list, again without re-tokenising:

    >>> talk.add_action(Generation(tokenizer.encode("look") + [end], "look", True))
    >>> talk.add_observation("Nothing happens.")
    >>> tokenizer.decode(talk.window(1))
    '<|user|> You are in the middle of a room. <|end|> <|assistant|> look <|end|> <|user|> Nothing happens. <|end|> <|assistant|>'
"""  # noqa: E501 (doctest expected outputs: a decoded token sequence cannot be wrapped)

from __future__ import annotations

from functools import cached_property
from typing import Any

from .policy import Generation


def template_ids(tokenizer: Any, messages: list[dict[str, str]], add_generation_prompt: bool) -> list[int]:
    """Token ids of ``messages`` rendered with the tokenizer's chat template."""
    rendered = tokenizer.apply_chat_template(messages, add_generation_prompt=add_generation_prompt, tokenize=True)
    ids = rendered["input_ids"] if hasattr(rendered, "keys") else rendered
    return list(ids)


class TokenConversation:
    """Token ids of an agent's episode and the spans of its generated actions."""

    def __init__(self, tokenizer: Any, messages: list[dict[str, str]]):
        self.tokenizer = tokenizer
        self.messages = list(messages)
        self.ids = template_ids(tokenizer, self.messages, add_generation_prompt=True)
        self.opening_length = len(self.ids)  # the opening messages and the first generation prompt
        self.action_spans: list[tuple[int, int]] = []

    def window(self, turns: int | None) -> list[int]:
        """The ids the policy sees with only the last ``turns`` turns kept (``None``: the whole history)."""
        if turns is None or len(self.action_spans) <= turns:
            return self.ids
        if turns < 1:
            raise ValueError(f"a history window keeps at least 1 turn (the current observation), got {turns}")
        return self.ids[: self.opening_length] + self.ids[self.action_spans[-turns][0] :]

    def add_action(self, generation: Generation) -> None:
        """Append the generated ids, then what the template puts after the turn: its end token if
        generation was cut short, and the separator after it (ChatML's newline)."""
        start = len(self.ids)
        self.ids += generation.ids
        self.action_spans.append((start, len(self.ids)))
        closing = self.closing_ids
        if not generation.stopped:
            self.ids += closing
        elif generation.ids and generation.ids[-1] == closing[0]:
            self.ids += closing[1:]
        self.messages.append({"role": "assistant", "content": generation.text})

    def add_observation(self, observation: str) -> None:
        """Append the env's answer as the next user turn, followed by the next generation prompt."""
        before = template_ids(self.tokenizer, self.messages, add_generation_prompt=False)
        self.messages.append({"role": "user", "content": observation})
        after = template_ids(self.tokenizer, self.messages, add_generation_prompt=True)
        if after[: len(before)] != before:
            raise ValueError(
                "this tokenizer's chat template is not prefix-stable (adding a turn changed earlier tokens), "
                "so multi-turn token ids cannot be kept exact"
            )
        self.ids += after[len(before) :]

    @cached_property
    def closing_ids(self) -> list[int]:
        """What the chat template puts after an assistant turn's content: the turn's end token (the one
        the model generates to stop) and any separator after it (ChatML: ``<|im_end|>``, ``"\n"``)."""
        probe = [{"role": "user", "content": "x"}]
        opened = template_ids(self.tokenizer, probe, add_generation_prompt=True)
        closed = template_ids(self.tokenizer, [*probe, {"role": "assistant", "content": "x"}],
                              add_generation_prompt=False)
        content = self.tokenizer.encode("x", add_special_tokens=False)
        after = len(opened) + len(content)
        if closed[: len(opened)] != opened or closed[len(opened): after] != content or after == len(closed):
            raise ValueError("this tokenizer's chat template is not prefix-stable around an assistant turn (or does "
                             "not close one after its content), so multi-turn token ids cannot be kept exact")
        return closed[after:]
