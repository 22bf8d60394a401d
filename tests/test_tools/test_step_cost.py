"""step_cost.py: a step's analytic FLOP count, the CPU's GEMM rate."""
import torch
import torch.nn as nn
from seggan_testing import import_tool
from torch.utils.flop_counter import FlopCounterMode

step_cost = import_tool('tools/analysis_tools/step_cost.py')
count_flops, step_flops = step_cost.count_flops, step_cost.step_flops

# Input 1 x 3 x 8 x 8; every layer keeps 8 x 8 except the transposed conv.
STEM = 2 * 64 * 8 * 3 * 9  # 3 -> 8, 3x3: 27648 (frozen)
DEPTHWISE = 2 * 64 * 8 * 1 * 9  # 8 groups of 1, 3x3: 9216
POINTWISE = 2 * 64 * 4 * 8  # 8 -> 4, 1x1: 4096
# 4 -> 2, 4x4 stride 2 (8x8 -> 16x16): each input pixel meets 2 x 16 weights
TRANSPOSED = 2 * (4 * 64) * 2 * 16  # 16384
LINEAR = 2 * 1 * 512 * 10  # 2 x 16 x 16 = 512 -> 10: 10240


class Net(nn.Module):

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.body = nn.Sequential(
            nn.Conv2d(8, 8, 3, padding=1, groups=8), nn.BatchNorm2d(8),
            nn.ReLU(), nn.Conv2d(8, 4, 1))
        self.up = nn.ConvTranspose2d(4, 2, 4, 2, 1)
        self.fc = nn.Linear(512, 10)

    def forward(self, x):
        return self.fc(self.up(self.body(self.stem(x))).flatten(1))


def _net(frozen_stem=True):
    net = Net()
    net.stem.requires_grad_(not frozen_stem)
    return net


def test_forward_and_backward_equal_the_hand_count():
    """Bugs: the depthwise conv counted as dense (x8), the transposed conv
    counted from its output like a conv (x4), a backward for the input of
    the first trainable layer (the stem is frozen: its output needs no
    gradient), or a weight gradient for the frozen stem."""
    net = _net()
    x = torch.randn(1, 3, 8, 8)
    count = step_flops(net, lambda: net(x).sum().backward())
    forward = STEM + DEPTHWISE + POINTWISE + TRANSPOSED + LINEAR
    assert count.forward_total == forward
    # dw: weight grad only (its input comes from the frozen stem);
    # pw, up, fc: input and weight grads; stem: nothing.
    assert count.backward_total == DEPTHWISE + 2 * (
        POINTWISE + TRANSPOSED + LINEAR)
    assert count.backward_weight['stem'] == 0
    assert count.backward_input['body'] == POINTWISE
    assert count.total == count.forward_total + count.backward_total


def test_trainable_stem_gets_its_weight_gradient_and_no_input_gradient():
    """Bug: the image (no requires_grad) counted as needing a gradient."""
    net = _net(frozen_stem=False)
    x = torch.randn(1, 3, 8, 8)
    count = step_flops(net, lambda: net(x).sum().backward())
    assert count.backward_weight['stem'] == STEM
    assert count.backward_input['stem'] == 0
    assert count.backward_input['body'] == DEPTHWISE + POINTWISE


def test_forward_agrees_with_torch_flop_counter_and_no_grad_has_no_backward():
    """torch's forward count is right; ours must match it. Under no_grad
    (inference) autograd runs no backward, so none may be counted."""
    net = _net(frozen_stem=False)
    x = torch.randn(2, 3, 8, 8)
    with FlopCounterMode(display=False) as ref, torch.no_grad():
        net(x)
    with count_flops(net) as count, torch.no_grad():
        net(x)
    assert count.forward_total == ref.get_total_flops()
    assert count.backward_total == 0
    # The hooks are gone after the block: nothing more is counted.
    net(x)
    assert count.forward_total == ref.get_total_flops()


def test_gemm_size_search_stops_before_a_slow_product():
    """Bug: probing straight at 2048 (a bf16 2048 matmul takes minutes
    where bf16 is emulated). With no time allowed, the search must stay
    at its first size."""
    out = step_cost.gemm_gflops(
        torch.float32, size=2048, max_seconds=0.0, min_seconds=0.0)
    assert out['size'] == 256 and out['gflops'] > 0
    assert step_cost.gemm_gflops(
        torch.float32, size=128, min_seconds=0.0)['size'] == 128
