"""One place for the KV-cache keyword of transformers models, which transformers 5 renamed.

Earlier transformers 5 releases take ``past_key_values=`` in a model's ``forward`` and return
``output.past_key_values``; later ones take and return ``cache`` (5.24 warns that the old name goes
in 5.40). These two helpers let the rest of spa-gym work with either.

Example:
    >>> from transformers import DynamicCache, LlamaConfig, LlamaForCausalLM
    >>> model = LlamaForCausalLM(LlamaConfig(vocab_size=8, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
    ...                                      intermediate_size=8))
    >>> import torch
    >>> output = model(input_ids=torch.tensor([[1, 2]]), use_cache=True, **cache_kwargs(model, DynamicCache()))
    >>> returned_cache(output).get_seq_length()
    2
"""

from __future__ import annotations

import inspect
from functools import cache
from typing import Any


@cache
def _cache_parameter(model_class: type) -> str:
    parameters = inspect.signature(model_class.forward).parameters
    return "cache" if "cache" in parameters else "past_key_values"


def cache_kwargs(model: Any, kv_cache: Any) -> dict[str, Any]:
    """``{name: kv_cache}`` with the name ``model.forward`` takes (PEFT wrappers: their base model's)."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return {_cache_parameter(type(base)): kv_cache}


def returned_cache(output: Any) -> Any:
    """The KV cache a forward pass returned."""
    returned = getattr(output, "cache", None)
    return returned if returned is not None else output.past_key_values
