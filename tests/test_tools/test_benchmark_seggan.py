"""benchmark_seggan.py: step times against FLOPs and the CPU's ceiling."""
import json

import pytest

from seggan_testing import TINY_SEGGAN, run_tool


def test_benchmark_reports_gflops_against_the_measured_gemm_rate(tmp_path):
    """Bugs: frozen G and D counted with weight gradients in phase 2 (its
    GFLOP/s inflated), the CE step counted without the segmentor's
    backward, or no GEMM rate to compare with."""
    out = tmp_path / 'bench.json'
    res = run_tool([
        'tools/analysis_tools/benchmark_seggan.py', TINY_SEGGAN, '--crop',
        '32', '48', '--batch', '2', '--iters', '1', '--warmup', '0',
        '--skip-memory', '--json',
        str(out)
    ],
                   timeout=240)
    assert res.returncode == 0, res.stderr[-3000:]
    assert 'GFLOP/s' in res.stdout and 'of fp32 GEMM' in res.stdout
    assert 'torch capability' in res.stdout
    record = json.loads(out.read_text())
    r, gemm = record['results'], record['gemm']
    assert gemm['float32']['gflops_per_s'] > 0
    assert gemm['bfloat16']['size'] >= 128
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
    # Ratios pair the stages of the same round (one round here).
    ratios = record['ratios']
    assert ratios['phase2_over_ce'] == pytest.approx(
        r['phase2']['times_s'][0] / r['ce']['times_s'][0])
    gemm_rate = 2 * gemm['float32']['size']**3 / 1e9 / gemm['float32'][
        'times_s'][0]
    assert ratios['ce_rate_over_fp32_gemm'] == pytest.approx(
        r['ce']['gflops_per_s'] / gemm_rate)
