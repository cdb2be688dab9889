"""Activation (gradient) checkpointing: recompute activations in the backward pass instead of keeping them.

A 2,500-token episode of a 30-layer model otherwise keeps its attention matrices, over 15 GB, for
the backward pass. Non-reentrant, so frozen embeddings under LoRA need no input gradients.

Example:
    >>> from transformers import AutoModelForCausalLM
    >>> from spa_gym.training import tiny_model_path
    >>> model = AutoModelForCausalLM.from_pretrained(tiny_model_path())
    >>> checkpoint_activations(model)
    >>> model.is_activation_checkpointing
    True
"""

from __future__ import annotations

from torch import nn


def checkpoint_activations(model: nn.Module) -> None:
    """Turn on non-reentrant activation checkpointing of a transformers model (or a peft model on one)."""
    if hasattr(model, "activation_checkpointing_enable"):  # transformers >= 5.24 renamed it
        model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
    else:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
