"""report_semi.py: the semi-supervised tables, paired differences and plot
from the records of run_semi_protocol.py (synthetic records: the numbers
are known)."""
import json
import os
import os.path as osp

import pytest
from seggan_testing import import_tool

report_semi = import_tool('tools/experiments/report_semi.py')

ENV = dict(
    torch='2.13.0',
    cpu='Test CPU',
    cpu_capability='AVX512',
    nproc=2,
    threads_per_run=1,
    jobs=2,
    nice=0,
    git_commit='abc',
    mmengine='0.10.7',
    mmseg='1.2.2')


def _m(miou):
    return dict(mIoU=miou, mAcc=miou + 10., aAcc=miou + 20.)


def _record(k: int, base: float) -> dict:
    """Baseline, phase 1 (gan0) and the four arms x seeds 0, 1:
    (a) base, (b) base + 1 + s, (c) base + 2 + 2 s, (d) base + 0.5."""
    stages = {'baseline': dict(metrics=_m(base - 5.), seed=0, max_iters=10)}
    for s in (0, 1):
        stages[f'control_seed{s}'] = dict(metrics=_m(base), seed=s)
        pair = dict(pair_with=f'control_seed{s}', seed=s)
        stages[f'seggan_gan0_seed{s}'] = dict(metrics=_m(base + 1 + s), **pair)
        stages[f'seggan-semi_gan0_seed{s}'] = dict(
            metrics=_m(base + 2 + 2 * s), **pair)
        stages[f'pseudo-label_seed{s}'] = dict(metrics=_m(base + .5), **pair)
    return dict(protocol=f'stanford-bg-1-{k}', stages=stages, environment=ENV)


def _write(root: str, name: str, record: dict) -> str:
    os.makedirs(osp.join(root, name), exist_ok=True)
    path = osp.join(root, name, 'protocol.json')
    with open(path, 'w') as f:
        json.dump(record, f)
    return path


@pytest.fixture
def roots(tmp_path):
    semi, full = str(tmp_path / 'semi'), str(tmp_path / 'full')
    _write(semi, 'stanford-bg-1-8', _record(8, 50.))
    _write(
        full, 'stanford-bg-lite0', {
            'protocol': 'stanford-bg-lite0',
            'stages': {
                'control_seed0': dict(metrics=_m(67.), seed=0),
                'control_seed1': dict(metrics=_m(68.), seed=1)
            }
        })
    return semi, full, tmp_path


def test_tables_differences_machine_and_plot(roots):
    semi, full, tmp = roots
    out = str(tmp / 'docs')
    text = report_semi.main([
        'stanford-bg', '--work-root', semi, '--full-root', full, '--out-dir',
        out
    ])
    # two equal runs: a measured zero spread
    assert '| 1/8 | (a) CE, labeled only | 2 | 50.00 ± 0.00 | 60.00 ± 0.00 ' \
        in text
    assert '| 1/8 | (c) SegGAN-semi, GAN terms on all | 2 | 53.00 ± 1.41 |' \
        in text
    # the baseline is one run: no spread printed
    assert '| 1/8 | baseline (labeled only, start of all arms) | 1 | 45.00 |' \
        in text
    assert '| all | fully labeled CE control (upper reference) | 2 | ' \
        '67.50 ± 0.71 |' in text
    # (c) - (a): +2, +4; (c) - (b): +1, +2; (c) - (d): +1.5, +3.5
    assert '| 1/8 | (c) - (a) | 0/0: +2.00, 0/1: +4.00 | +3.00 ± 1.41 ' \
        '(n=2) |' in text
    assert '| 1/8 | (c) - (b) | 0/0: +1.00, 0/1: +2.00 | +1.50 ± 0.71 ' \
        '(n=2) |' in text
    assert '| 1/8 | (c) - (d) | 0/0: +1.50, 0/1: +3.50 | +2.50 ± 1.41 ' \
        '(n=2) |' in text
    assert 'Test CPU (capability AVX512), 2 CPUs, 1 thread(s) per run' in text
    png = osp.join(out, 'results_semi_stanford-bg.png')
    assert osp.getsize(png) > 5000


def test_an_exported_record_of_a_lost_fraction_is_read(roots, tmp_path):
    semi, full, tmp = roots
    carried = str(tmp_path / 'stanford-bg-1-4.json')
    with open(carried, 'w') as f:
        json.dump(_record(4, 55.), f)
    text = report_semi.main([
        'stanford-bg', '--work-root', semi, '--full-root', full, '--out-dir',
        str(tmp / 'docs'), '--merge', carried
    ])
    rows = [r for r in text.splitlines() if r.startswith('| 1/')]
    # 1/8 first, then 1/4 from the carried record
    assert rows[0].startswith('| 1/8 |') and rows[-1].startswith('| 1/4 |')
    assert '| 1/4 | (a) CE, labeled only | 2 | 55.00 ± 0.00 |' in text


def test_no_protocol_is_named_not_plotted(tmp_path):
    text = report_semi.main([
        'camvid', '--work-root',
        str(tmp_path), '--full-root',
        str(tmp_path), '--out-dir',
        str(tmp_path / 'docs')
    ])
    assert 'no semi-supervised protocol under' in text
    assert 'run_semi_protocol.py camvid --fraction K' in text
    assert not osp.exists(tmp_path / 'docs' / 'results_semi_camvid.png')


def test_the_reference_is_read_from_an_exported_record(roots):
    """Once the full protocol's work dirs are gone, its record carries the
    upper reference; a record of another protocol is refused by name."""
    semi, full, tmp = roots
    record = osp.join(full, 'stanford-bg-lite0', 'protocol.json')
    text = report_semi.main([
        'stanford-bg', '--work-root', semi, '--full-root', record, '--out-dir',
        str(tmp / 'docs')
    ])
    assert '| all | fully labeled CE control (upper reference) | 2 | ' \
        '67.50 ± 0.71 |' in text
    other = _write(
        str(tmp / 'other'), 'camvid-lite0',
        dict(protocol='camvid-lite0', stages={}))
    with pytest.raises(SystemExit, match="record of 'camvid-lite0'"):
        report_semi.main([
            'stanford-bg', '--work-root', semi, '--full-root', other,
            '--out-dir',
            str(tmp / 'docs')
        ])


def test_a_missing_reference_is_said(roots):
    semi, _, tmp = roots
    text = report_semi.main([
        'stanford-bg', '--work-root', semi, '--full-root',
        str(tmp / 'nowhere'), '--out-dir',
        str(tmp / 'docs')
    ])
    assert 'upper reference' not in text
    assert 'no fully labeled reference (stanford-bg-lite0) under' in text


def test_every_error_bar_lies_inside_the_plot(roots, monkeypatch):
    """The arms are dodged sideways around each fraction; none may fall on
    or beyond the axis edge (the first arm at 1/8 did: half a bar)."""
    from matplotlib.figure import Figure
    semi, full, tmp = roots
    seen = {}

    def savefig(fig, *args, **kwargs):
        ax = fig.axes[0]
        seen['xlim'] = ax.get_xlim()
        seen['x'] = [x for line in ax.get_lines() for x in line.get_xdata()]

    monkeypatch.setattr(Figure, 'savefig', savefig)
    report_semi.main([
        'stanford-bg', '--work-root', semi, '--full-root', full, '--out-dir',
        str(tmp / 'docs')
    ])
    lo, hi = seen['xlim']
    xs = [x for x in seen['x'] if 0 < x < 1]  # the arms, not the reference
    assert len(xs) >= 5  # 5 arms (and their caps)
    assert all(lo + 0.005 < x < hi - 0.005 for x in xs), (seen, xs)
