"""Multi-turn generation for many conversations at once, with one KV cache kept across turns.

Re-encoding the whole conversation at every turn makes a T-turn episode cost O(T^2) tokens of
prefill; here a turn prefills only the tokens added since the last one (the env's answer and the
next generation prompt), for the whole batch in one forward pass.

The rows (one conversation each) share one cache. A turn appends each row's new tokens,
right-padded to the longest, with an attention mask that hides the padding and explicit position
ids that continue each row's own sequence, so a row computes what its unpadded conversation
computes (up to float rounding). Then tokens are sampled one at a time for all rows; a row that
emits a stop token is masked from then on. The last sampled token of each row is not yet in the
cache: it is the first new token of the row's next turn.

Rows that leave (finished episodes) are dropped from the cache; a row that joins, or whose
conversation no longer extends what the cache holds, or a cache grown mostly of padding, makes
the next turn rebuild the cache from the rows' token ids in one pass.

Example:
    >>> from spa_gym.agents.policy import LLMPolicy
    >>> from spa_gym.training import tiny_model_path
    >>> policy = LLMPolicy.from_pretrained(tiny_model_path())
    >>> generator = IncrementalGenerator(policy)
    >>> prompt = policy.tokenizer.encode("<|user|> You are in the middle of a room. <|end|> <|assistant|>")
    >>> cached = generator.generate({0: prompt}, max_new_tokens=4, do_sample=False)[0]
    >>> cached.ids == policy.generate([prompt], max_new_tokens=4, do_sample=False)[0].ids
    True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch

from ..training.kv_cache import cache_kwargs, returned_cache
from .policy import Generation, LLMPolicy

#: Rebuild the cache once it is this many times longer than the longest conversation in it.
REBUILD_FACTOR = 2


class IncrementalGenerator:
    """The next turn of many growing conversations (token ids), generated with a KV cache kept across turns."""

    def __init__(self, policy: LLMPolicy):
        self.policy = policy
        self.rows: list[int] = []  # the conversation key of each batch row of the cache
        self.cached: list[list[int]] = []  # token ids each row holds in the cache
        self.valid = torch.zeros((0, 0), dtype=torch.long)  # (rows, cache length): 1 where a row attends
        self.cache = None

    def reset(self) -> None:
        """Forget every conversation (free the cache)."""
        self.__init__(self.policy)

    @torch.no_grad()
    def generate(
        self,
        conversations: Mapping[int, Sequence[int]],
        max_new_tokens: int = 64,
        do_sample: bool = True,
        temperature: float = 1.0,
        top_p: float = 1.0,
    ) -> dict[int, Generation]:
        """Continue each conversation ``key -> token ids``; keys not given are dropped from the cache."""
        if not conversations:
            return {}
        if max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be at least 1, not {max_new_tokens}")
        policy = self.policy
        was_training = policy.training
        policy.eval()
        self._align(conversations)
        lengths = [len(ids) for ids in self.cached]
        new = [list(conversations[key])[len(ids) :] for key, ids in zip(self.rows, self.cached)]
        logits = self._append(new, lengths)
        lengths = [n + len(ids) for n, ids in zip(lengths, new)]
        generated: list[list[int]] = [[] for _ in self.rows]
        live = torch.ones(len(self.rows), dtype=torch.bool)
        for step in range(max_new_tokens):
            tokens = self._sample(logits, do_sample, temperature, top_p)
            for row in live.nonzero().flatten().tolist():
                generated[row].append(tokens[row])
                if tokens[row] in policy.stop_token_ids:
                    live[row] = False
            if step == max_new_tokens - 1 or not live.any():
                break
            feed = [[tokens[row]] if live[row] else [] for row in range(len(self.rows))]
            logits = self._append(feed, lengths)
            lengths = [n + len(ids) for n, ids in zip(lengths, feed)]
        policy.train(was_training)
        results = {}
        for row, key in enumerate(self.rows):
            self.cached[row] = list(conversations[key]) + generated[row][:-1]
            ids = generated[row]
            stopped = ids[-1] in policy.stop_token_ids
            results[key] = Generation(ids, policy.tokenizer.decode(ids, skip_special_tokens=True), stopped)
        return results

    def _align(self, conversations: Mapping[int, Sequence[int]]) -> None:
        """Make the cache rows the given conversations: drop the others, or rebuild if needed."""
        keys = list(conversations)
        known = set(self.rows)
        longest = max(len(ids) for ids in conversations.values())
        stale = any(key not in known or not _extends(conversations[key], self.cached[self.rows.index(key)])
                    for key in keys)
        if self.cache is None or stale or self.valid.shape[1] > REBUILD_FACTOR * longest:
            self.rows, self.cached, self.cache = keys, [[] for _ in keys], None
            self.valid = torch.zeros((len(keys), 0), dtype=torch.long)
            return
        if keys != self.rows:
            index = [self.rows.index(key) for key in keys]
            self.cache.batch_select_indices(torch.tensor(index, device=self.policy.device))
            self.rows, self.cached, self.valid = keys, [self.cached[i] for i in index], self.valid[index]

    def _append(self, new: list[list[int]], lengths: list[int]) -> torch.Tensor:
        """Run the rows' new tokens through the model; logits ``(rows, V)`` at each row's last new token."""
        policy = self.policy
        width = max(len(ids) for ids in new)
        input_ids = torch.full((len(new), width), policy.pad_token_id, dtype=torch.long)
        fresh = torch.zeros((len(new), width), dtype=torch.long)
        for row, ids in enumerate(new):
            input_ids[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
            fresh[row, : len(ids)] = 1
        positions = torch.tensor(lengths, dtype=torch.long)[:, None] + torch.arange(width)[None, :]
        attention = torch.cat([self.valid, fresh], dim=1)
        last = torch.tensor([max(len(ids) - 1, 0) for ids in new], dtype=torch.long)
        keep = torch.unique(last)
        device = policy.device
        if self.cache is None:
            from transformers import DynamicCache

            self.cache = DynamicCache()
        output = policy.model(
            input_ids=input_ids.to(device), attention_mask=attention.to(device), position_ids=positions.to(device),
            use_cache=True, logits_to_keep=keep.to(device), **cache_kwargs(policy.model, self.cache),
        )
        self.cache = returned_cache(output)
        self.valid = attention
        column = torch.searchsorted(keep, last)
        return output.logits[torch.arange(len(new)), column.to(device)].float()

    @staticmethod
    def _sample(logits: torch.Tensor, do_sample: bool, temperature: float, top_p: float) -> list[int]:
        """Greedy, or sampled at ``temperature`` from the smallest set of tokens whose mass reaches ``top_p``."""
        if not do_sample:
            return logits.argmax(dim=-1).tolist()
        probs = torch.softmax(logits / temperature, dim=-1)
        if top_p < 1.0:
            sorted_probs, order = probs.sort(dim=-1, descending=True)
            outside = sorted_probs.cumsum(dim=-1) - sorted_probs >= top_p
            sorted_probs[outside] = 0.0
            probs = torch.zeros_like(probs).scatter(-1, order, sorted_probs)
        return torch.multinomial(probs, 1).squeeze(-1).tolist()


def _extends(conversation: Sequence[int], cached: list[int]) -> bool:
    """``conversation`` is ``cached`` followed by at least one more token."""
    return len(conversation) > len(cached) and list(conversation[: len(cached)]) == cached
