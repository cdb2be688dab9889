"""Training on several processes with accelerate: one process, or data parallel (DDP: NCCL on GPUs,
gloo on CPUs), from the same code. Started plainly, a script runs as one process;
``accelerate launch --multi_gpu --num_processes N script.py`` runs it on N GPUs, and with
``ACCELERATE_USE_CPU=true`` set on N CPU processes (accelerate's ``--cpu`` flag alone starts one).

Convention: a trainer's ``batch_size`` is the global batch. Each process takes its contiguous share
of every global batch (:func:`local_share`) and divides its summed loss terms by the global batch's
number of terms (examples, tokens) over the number of processes (:func:`global_divisor`), so the
gradient average that DDP takes is exactly the gradient of the global batch's mean: N processes
train as one does, up to float rounding. Only the main process writes files.

Example:
    >>> accelerator = make_accelerator(torch.nn.Linear(2, 1))
    >>> local_share(accelerator, ["a", "b", "c"])
    (['a', 'b', 'c'], True)
    >>> global_divisor(accelerator, 3)
    3
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeVar

import torch
from torch import nn

if TYPE_CHECKING:
    from accelerate import Accelerator, PartialState

T = TypeVar("T")


def make_accelerator(model: nn.Module, find_unused_parameters: bool = False) -> Accelerator:
    """An ``Accelerator`` to train ``model`` with. With several processes the model moves to this
    process's device (its GPU, or the CPU); alone it stays where it is. ``find_unused_parameters``:
    some trainable parameters may take no part in a loss (DDP then looks for them each step)."""
    from accelerate import Accelerator  # imported when training starts, not with the module
    from accelerate.utils import DistributedDataParallelKwargs

    handlers = [DistributedDataParallelKwargs(find_unused_parameters=True)] if find_unused_parameters else []
    accelerator = Accelerator(device_placement=False, kwargs_handlers=handlers)
    check_launch(accelerator.num_processes)
    if accelerator.num_processes > 1:
        model.to(accelerator.device)
    return accelerator


def check_launch(joined: int) -> None:
    """Refuse processes that were launched together but did not join one group (each would train alone)."""
    launched = int(os.environ.get("WORLD_SIZE", "1"))
    if launched > joined:
        raise ValueError(f"{launched} processes were launched but each trains alone (no GPU of its own?): on CPUs "
                         "launch with ACCELERATE_USE_CPU=true set")


def process_state() -> PartialState:
    """accelerate's view of this run's processes: one, or those ``accelerate launch`` started."""
    from accelerate import PartialState
    from accelerate.utils import parse_flag_from_env

    state = PartialState(cpu=parse_flag_from_env("ACCELERATE_USE_CPU"))  # as Accelerator() reads it
    check_launch(state.num_processes)
    return state


def launch_command(processes: int, script: Sequence[str], port: int | None = None) -> tuple[list[str], dict[str, str]]:
    """The command and environment that run ``script`` (``["-m", "module", ...]`` or a file and its
    arguments) on ``processes`` data-parallel processes: ``accelerate launch`` with one process per GPU,
    or with gloo on CPUs when there is no GPU (``ACCELERATE_USE_CPU``; accelerate's ``--cpu`` alone
    starts one process).

    Example:
        >>> command, env = launch_command(2, ["-m", "spa_gym.cli", "run"], port=29555)
        >>> command[3:8]
        ['--multi_gpu', '--num_processes', '2', '--num_machines', '1']
    """
    command = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", str(processes),
               "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no"]
    if port is not None:
        command += ["--main_process_port", str(port)]
    env = dict(os.environ)
    if not torch.cuda.is_available():
        env["ACCELERATE_USE_CPU"] = "true"
    return command + list(script), env


def local_share(accelerator: Accelerator, batch: Sequence[T]) -> tuple[list[T], bool]:
    """This process's contiguous share of a global batch, and whether it is real.

    A process whose share is empty (a batch smaller than the number of processes) gets the batch's
    last item as a stand-in, to run forward and backward with zero weight: every process takes
    part in every gradient average.
    """
    with accelerator.split_between_processes(list(batch)) as share:
        share = list(share)
    return (share, True) if share else (list(batch[-1:]), False)


def global_divisor(accelerator: Accelerator, local_count: int | float) -> int | float:
    """The sum of ``local_count`` over the processes, divided by their number: what a process divides
    its summed loss terms by so that the processes' average gradient is the global batch's."""
    if accelerator.num_processes == 1:
        return local_count
    total = accelerator.reduce(torch.tensor(float(local_count), dtype=torch.float64, device=accelerator.device))
    return total.item() / accelerator.num_processes


def global_mean(accelerator: Accelerator, value: torch.Tensor) -> float:
    """A scalar averaged over the processes (each process's loss divided by :func:`global_divisor`
    averages to the global batch's loss)."""
    if accelerator.num_processes == 1:
        return value.item()
    return accelerator.reduce(value.detach().double(), reduction="mean").item()


def global_sums(accelerator: Accelerator, *values: float) -> list[float]:
    """Each value summed over the processes (float64)."""
    if accelerator.num_processes == 1:
        return list(values)
    return accelerator.reduce(torch.tensor(values, dtype=torch.float64, device=accelerator.device)).tolist()
