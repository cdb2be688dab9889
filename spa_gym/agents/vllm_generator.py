"""vLLM as the generation backend of rollouts and evaluation (GPU; the ``vllm`` extra).

:class:`VLLMGenerator` has :class:`~.incremental.IncrementalGenerator`'s interface (token-id
conversations in, :class:`~.policy.Generation` out), so :func:`~.rollout.play_episodes` takes it
as ``generator=``. The token ids vLLM sampled are kept as they are (the trainer scores exactly
those ids; nothing is re-tokenised). :meth:`VLLMGenerator.sync_weights` copies the policy's
current weights (a LoRA adapter's delta added) into the vLLM engine in place, as the PPO trainer does
before each iteration's rollouts; vLLM's prefix cache is reset after a sync.

vLLM runs in the training process (colocated: ``gpu_memory_utilization`` is its share of the
GPU). The weight copy uses the in-process engine's model (``llm_engine.model_executor.
driver_worker.model_runner.model.load_weights``, the path TRL's colocate mode uses), so it needs a
vLLM whose engine runs in the same process (``VLLM_ENABLE_V1_MULTIPROCESSING=0`` on vLLM's V1
engine). CPUs keep transformers' generation: vLLM is never imported unless this class is built.

Example (on a GPU machine with vLLM installed):
    >>> generator = VLLMGenerator(policy)                                   # doctest: +SKIP
    >>> episodes = play_episodes(policy, envs, generator=generator)         # doctest: +SKIP
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from .policy import Generation, LLMPolicy

#: Prefixes PEFT puts before a base model's parameter names, and the infix of wrapped layers.
_PEFT_PREFIX, _PEFT_BASE_LAYER = "base_model.model.", ".base_layer"


def vllm_parameter_names(named: Sequence[tuple[str, torch.Tensor]]) -> list[tuple[str, torch.Tensor]]:
    """The (name, tensor) pairs vLLM's ``load_weights`` takes: PEFT's prefixes and wrapper infixes
    removed, LoRA's own matrices and the value head left out.

    Example:
        >>> t = torch.zeros(1)
        >>> [n for n, _ in vllm_parameter_names([("base_model.model.model.layers.0.q_proj.base_layer.weight", t),
        ...                                      ("base_model.model.model.layers.0.q_proj.lora_A.default.weight", t),
        ...                                      ("model.norm.weight", t)])]
        ['model.layers.0.q_proj.weight', 'model.norm.weight']
    """
    out = []
    for name, tensor in named:
        if ".lora_" in name or name.startswith("value_head"):
            continue
        out.append((name.removeprefix(_PEFT_PREFIX).replace(_PEFT_BASE_LAYER, ""), tensor))
    return out


def policy_weights(policy: LLMPolicy) -> list[tuple[str, torch.Tensor]]:
    """The language model's current weights under vLLM's names; a LoRA layer's weight is its base
    weight plus the adapter's delta, computed aside (merging in place and back would leave float
    drift in the base weights)."""
    named = [(name, param.data) for name, param in policy.model.named_parameters()]
    if policy.is_lora:
        from peft.tuners.lora import LoraLayer

        merged = {}
        for name, module in policy.model.named_modules():
            if isinstance(module, LoraLayer) and hasattr(module, "base_layer"):
                delta = sum(module.get_delta_weight(adapter) for adapter in module.active_adapters)
                merged[f"{name}.base_layer.weight"] = module.base_layer.weight.data + delta
        named = [(name, merged.get(name, tensor)) for name, tensor in named]
    return vllm_parameter_names(named)


class VLLMGenerator:
    """Batched generation on vLLM for an :class:`~.policy.LLMPolicy` (same interface as
    :class:`~.incremental.IncrementalGenerator`)."""

    def __init__(self, policy: LLMPolicy, gpu_memory_utilization: float = 0.3, seed: int = 0, **llm_kwargs: Any):
        try:
            from vllm import LLM
        except ImportError as error:
            raise ImportError("the vLLM backend needs vllm on a GPU machine: pip install vllm") from error
        self.policy = policy
        self._folder = tempfile.TemporaryDirectory(prefix="spa-gym-vllm-")
        if policy.is_lora:  # the engine loads the base model; the adapter's weights arrive by sync_weights
            folder = policy.base_model_path
        else:
            folder = self._folder.name
            policy.model.save_pretrained(folder)
            policy.tokenizer.save_pretrained(folder)
        # the engine in this process, so that weights sync in place
        os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
        dtype = str(next(policy.model.parameters()).dtype).removeprefix("torch.")
        self.llm = LLM(model=str(folder), dtype=dtype, seed=seed, gpu_memory_utilization=gpu_memory_utilization,
                       **llm_kwargs)
        if policy.is_lora:
            self.sync_weights()

    def sync_weights(self) -> None:
        """Copy the policy's current weights into the engine (in place) and drop its prefix cache."""
        model = self.llm.llm_engine.model_executor.driver_worker.model_runner.model
        for name, tensor in policy_weights(self.policy):
            model.load_weights([(name, tensor)])
        self.llm.reset_prefix_cache()

    def generate(self, conversations: Mapping[int, Sequence[int]], max_new_tokens: int = 64, do_sample: bool = True,
                 temperature: float = 1.0, top_p: float = 1.0) -> dict[int, Generation]:
        """Continue each conversation ``key -> token ids``; the ids vLLM sampled, up to and
        including the stop token."""
        from vllm import SamplingParams

        if not conversations:
            return {}
        params = SamplingParams(max_tokens=max_new_tokens, temperature=temperature if do_sample else 0.0,
                                top_p=top_p if do_sample else 1.0, stop_token_ids=sorted(self.policy.stop_token_ids))
        keys = list(conversations)
        outputs = self.llm.generate([{"prompt_token_ids": list(conversations[key])} for key in keys], params,
                                    use_tqdm=False)
        results = {}
        for key, output in zip(keys, outputs):
            ids = list(output.outputs[0].token_ids)
            stopped = bool(ids) and ids[-1] in self.policy.stop_token_ids
            results[key] = Generation(ids, self.policy.tokenizer.decode(ids, skip_special_tokens=True), stopped)
        return results
