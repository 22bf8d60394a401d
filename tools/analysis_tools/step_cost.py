"""What a training step costs against the CPU's own ceiling.

Used by ``benchmark_seggan.py``. Two measures:

* The analytic FLOP count of a step, forward and backward.
  ``torch.utils.flop_counter`` counts the forward of convolutions right, but
  its backward of grouped (depthwise) convolutions is about a thousand times
  too high. Here every convolution and linear layer is counted from its
  shapes when it runs, and its backward from what autograd will compute:
  the gradient w.r.t. its input (as many FLOPs as the forward) only if that
  input requires grad, the gradient w.r.t. its weight (as many again) only
  if the weight requires grad (frozen layers, SegGAN's G and D in phase 2,
  get none). FLOPs are 2 x the multiply-adds of convolutions and matmuls,
  the work a GEMM rate measures; elementwise ops are left out.
* The GEMM rate of the CPU (one matmul), fp32 and bf16.
"""
import time
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


def gemm_gflops(dtype: torch.dtype = torch.float32,
                size: int = 2048,
                min_seconds: float = 0.2,
                max_seconds: float = 1.5) -> Dict[str, float]:
    """Measured rate of one ``size`` x ``size`` matmul (best of a few).

    Where bf16 is emulated a 2048 matmul takes minutes: the size doubles
    from 256 up to ``size`` only while the next product would take under
    ``max_seconds``, and the size used is returned with the rate.

    Returns:
        dict: ``gflops`` (2 n^3 / s of the fastest product) and ``size``.
    """
    n = min(256, size)
    while True:
        a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
        t0 = time.perf_counter()
        a @ b  # warm-up, and the size probe
        first = time.perf_counter() - t0
        if n >= size or 8 * first > max_seconds:
            break
        n = min(2 * n, size)
    best, spent = first, 0.0
    while spent < min_seconds:
        t0 = time.perf_counter()
        a @ b
        dt = time.perf_counter() - t0
        best, spent = min(best, dt), spent + dt
    return dict(gflops=2 * n**3 / best / 1e9, size=n)


def onednn_bf16() -> bool:
    """Whether torch runs bf16 convolutions and matmuls in oneDNN here
    (without it, reference kernels far slower than fp32)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False
