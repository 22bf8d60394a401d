"""benchmark_seggan.py: step times against FLOPs, the CPU's ceiling and
the precision levers, in the same rounds."""
import argparse
import json
import os.path as osp

import pytest
from seggan_testing import REPO, TINY_SEGGAN, import_tool, run_tool


def test_benchmark_reports_levers_and_gflops_against_the_gemm_rate(tmp_path):
    """Bugs: frozen G and D counted with weight gradients in phase 2 (its
    GFLOP/s inflated), the CE step counted without the segmentor's
    backward, no GEMM rate to compare with, a lever missing or its ratio
    taken from other rounds than the fp32 step's, no bf16 capability."""
    out = tmp_path / 'bench.json'
    res = run_tool([
        'tools/analysis_tools/benchmark_seggan.py', TINY_SEGGAN, '--crop',
        '32', '48', '--batch', '2', '--iters', '2', '--warmup', '0',
        '--skip-memory', '--json',
        str(out)
    ],
                   timeout=400)
    assert res.returncode == 0, res.stderr[-3000:]
    assert 'GFLOP/s' in res.stdout and 'of fp32 GEMM' in res.stdout
    assert 'torch capability' in res.stdout and 'native bf16: ' in res.stdout
    record = json.loads(out.read_text())
    r, gemm = record['results'], record['gemm']
    assert gemm['float32']['gflops_per_s'] > 0
    assert gemm['bfloat16']['size'] >= 128
    assert record['cpu']['native_bf16'] in (True, False)
    ce, p2 = r['ce']['flops'], r['phase2']['flops']
    seg = ('backbone', 'decode_head')
    # Phase 2 runs the same segmentor as the CE step, plus G and D.
    for key in ('forward_by_module', 'backward_weight_by_module'):
        assert {k: p2[key][k] for k in seg} == {k: ce[key][k] for k in seg}
    assert p2['forward_by_module']['generator'] > 0
    assert 'generator' not in p2['backward_weight_by_module']
    assert 'discriminator' not in p2['backward_weight_by_module']
    # G's input (the softmax) needs its gradient: the segmentor learns
    # through G.
    assert p2['backward_input_by_module']['generator'] == \
        p2['forward_by_module']['generator']
    assert ce['backward_gflop'] > 0 and r['infer_plain']['flops'][
        'backward_gflop'] == 0
    assert r['ce']['gflops_per_s'] == ce['total_gflop'] / r['ce']['median_s']
    # Ratios pair the steps of the same round.
    ratios = record['ratios']
    assert ratios['phase2_over_ce'] == pytest.approx(
        _paired(r['phase2'], r['ce']))
    # Every lever, as ratios to fp32 in the same rounds.
    levers = record['levers']
    assert list(levers) == [
        'channels-last', 'bf16', 'channels-last+bf16', 'fp32-islands',
        'policy'
    ]
    for name, row in levers.items():
        assert row['ce_over_fp32'] == pytest.approx(
            _paired(r[f'{name}/ce'], r['ce']))
        assert row['phase2_over_ce'] == pytest.approx(
            _paired(r[f'{name}/phase2'], r[f'{name}/ce']))
    assert 'policy' in res.stdout and 'phase-2 / CE' in res.stdout


def _paired(a, b):
    x = sorted(p / q for p, q in zip(a['times_s'], b['times_s']))
    return (x[len(x) // 2] + x[(len(x) - 1) // 2]) / 2


def test_memory_of_a_step_under_the_policy_in_its_own_process(monkeypatch):
    """Peak RSS of a step under the policy, in a fresh process; the module
    imported as run_gpu_protocol.py imports it. Bug: the lever not passed
    to the process (fp32 measured twice)."""
    monkeypatch.syspath_prepend(osp.join(REPO, 'tools', 'analysis_tools'))
    bench = import_tool('tools/analysis_tools/benchmark_seggan.py')
    args = bench.parse_args(
        [TINY_SEGGAN, '--crop', '32', '48', '--batch', '2', '--warmup', '0'])
    m = bench.spawn(args, 'ce', 'policy', iters=1)
    assert m['lever'] == 'policy' and m['memory'] == 'peak_rss'
    assert m['peak_mib'] > m['step_mib'] > 0
    # The policy's model as the benchmark builds it: channels-last.
    import torch
    model, *_ = bench.build(
        argparse.Namespace(**vars(args)), 'ce', bench.LEVERS['policy'])
    conv = next(m for m in model.backbone.modules()
                if isinstance(m, torch.nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    # The hook's own options reach it: the earlier policy is not the new one.
    from mmseg_seggan.engine.hooks import bf16_policy_hook
    calls = []
    monkeypatch.setattr(bf16_policy_hook, 'flip_dilated_depthwise_grads',
                        lambda model: calls.append(model) or 0)
    for name in ('policy', 'fp32-islands'):
        bench.build(argparse.Namespace(**vars(args)), 'ce', bench.LEVERS[name])
    assert len(calls) == 1
