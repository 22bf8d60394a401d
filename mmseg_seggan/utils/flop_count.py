"""Analytic FLOP count of a training step: forward and backward.

``torch.utils.flop_counter`` counts the forward of convolutions right, but
its backward of grouped (depthwise) convolutions is about a thousand times
too high (858 GFLOP reported for an EfficientNet-Lite0 step whose forward
is 25.7). Here every convolution and linear layer is counted from its
shapes when it runs, and its backward from what autograd will compute:

* the gradient w.r.t. its input (as many FLOPs as the forward) only if
  that input requires grad: layers below the first trainable one get none;
* the gradient w.r.t. its weight (as many again) only if the weight
  requires grad: frozen layers (a frozen backbone stage, SegGAN's G and D
  in phase 2) get none.

FLOPs are 2 x the multiply-adds of convolutions and matmuls, the work a
GEMM rate measures; elementwise ops (BN, activations, resize) are left
out, as ``torch.utils.flop_counter`` leaves them out.
"""
from collections import defaultdict
from contextlib import contextmanager
from typing import Callable, Dict, Iterator

import torch
import torch.nn as nn

_LAYERS = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d,
           nn.ConvTranspose2d, nn.ConvTranspose3d, nn.Linear)


def layer_flops(module: nn.Module, inp: torch.Tensor,
                out: torch.Tensor) -> int:
    """Forward FLOPs (2 x multiply-adds) of one conv or linear call.

    Args:
        module: A convolution (plain or transposed) or ``nn.Linear``.
        inp: Its input.
        out: Its output.

    Returns:
        int: ``2 * N * C_out * H_out * W_out * C_in / groups * k_h * k_w``
        for a convolution (a transposed one: each input pixel is spread
        over a kernel of ``C_out / groups`` channels), ``2 * rows * in *
        out`` for a linear layer.
    """
    if isinstance(module, nn.Linear):
        rows = inp.numel() // module.in_features
        return 2 * rows * module.in_features * module.out_features
    kernel = 1
    for k in module.kernel_size:
        kernel *= k
    if isinstance(module, nn.modules.conv._ConvTransposeNd):
        return 2 * inp.numel() * (module.out_channels //
                                  module.groups) * kernel
    return 2 * out.numel() * (module.in_channels // module.groups) * kernel


class FlopCount:
    """Totals of one or more counted calls, by top-level module.

    Attributes:
        forward (dict): ``{top-level module name: FLOPs}``.
        backward_input (dict): FLOPs of the input gradients, by module.
        backward_weight (dict): FLOPs of the weight gradients, by module.
    """

    def __init__(self):
        self.forward: Dict[str, int] = defaultdict(int)
        self.backward_input: Dict[str, int] = defaultdict(int)
        self.backward_weight: Dict[str, int] = defaultdict(int)

    @property
    def forward_total(self) -> int:
        return sum(self.forward.values())

    @property
    def backward_total(self) -> int:
        return sum(self.backward_input.values()) + sum(
            self.backward_weight.values())

    @property
    def total(self) -> int:
        return self.forward_total + self.backward_total

    def as_dict(self) -> dict:
        """Totals and the per-module split, in GFLOP (for JSON)."""

        def giga(d):
            return {k: v / 1e9 for k, v in sorted(d.items())}

        return dict(
            forward_gflop=self.forward_total / 1e9,
            backward_gflop=self.backward_total / 1e9,
            total_gflop=self.total / 1e9,
            forward_by_module=giga(self.forward),
            backward_input_by_module=giga(self.backward_input),
            backward_weight_by_module=giga(self.backward_weight))


@contextmanager
def count_flops(model: nn.Module) -> Iterator[FlopCount]:
    """Count the FLOPs of everything ``model`` runs inside the block.

    The backward is counted at forward time from ``requires_grad`` (and
    only while grad is enabled), so the block need not run it; a forward
    whose output is never back-propagated is counted as if it were (every
    training step of this package back-propagates what it computes with
    grad enabled).

    Args:
        model: The model whose conv and linear layers are counted; each is
            booked under its top-level child (``backbone``, ``generator``).

    Yields:
        FlopCount: Filled in as the block runs.
    """
    count = FlopCount()
    handles = []
    for name, module in model.named_modules():
        if not isinstance(module, _LAYERS):
            continue
        top = name.split('.')[0] or type(model).__name__

        def hook(mod, args, out, top=top):
            inp = args[0]
            flops = layer_flops(mod, inp, out)
            count.forward[top] += flops
            if not torch.is_grad_enabled():
                return
            if inp.requires_grad:
                count.backward_input[top] += flops
            if mod.weight.requires_grad:
                count.backward_weight[top] += flops

        handles.append(module.register_forward_hook(hook))
    try:
        yield count
    finally:
        for h in handles:
            h.remove()


def step_flops(model: nn.Module, step: Callable[[], object]) -> FlopCount:
    """The FLOP count of one call of ``step`` (e.g. a ``train_step``)."""
    with count_flops(model) as count:
        step()
    return count
