"""The protocol's tables: a single run is never printed with a spread."""
import os.path as osp
import sys

from seggan_testing import REPO

sys.path.insert(0, osp.join(REPO, 'tools', 'experiments'))
from protocol.summary import (
    format_mean_std,
    mean_std,  # noqa: E402
    paired_differences,
    summarize,
    summary_markdown)


def _metrics(miou: float) -> dict:
    return dict(mIoU=miou, mAcc=miou + 10, aAcc=miou + 20)


def _record(stages: dict) -> dict:
    record = dict(protocol='toy', stages=stages)
    record['summary'] = summarize(record)
    return record


def test_one_run_has_no_spread_several_have_the_sample_std():
    one = mean_std([67.62])
    assert format_mean_std(one) == '67.62'
    assert format_mean_std(one, count=True) == '67.62 (n=1)'
    assert format_mean_std(mean_std([-1.84]), signed=True) == '-1.84'
    two = mean_std([67.14, 67.58])  # sample std: 0.44 / sqrt(2)
    assert format_mean_std(two) == '67.36 ± 0.31'
    assert format_mean_std(
        mean_std([-1.8, -1.2]), signed=True,
        count=True) == '-1.50 ± 0.42 (n=2)'
    # a mean that rounds to zero is not '-0.00'
    assert format_mean_std(mean_std([-0.03, 0.02]), True) == '+0.00 ± 0.04'
    # two equal runs: a measured zero spread is printed as one
    assert format_mean_std(mean_std([1.0, 1.0])) == '1.00 ± 0.00'


def test_tables_print_a_single_baseline_and_a_single_pair_without_0_std():
    record = _record({
        'baseline':
        dict(metrics=_metrics(67.62), seed=0, max_iters=30),
        'control_seed0':
        dict(metrics=_metrics(67.14), seed=0, max_iters=3),
        'control_seed1':
        dict(metrics=_metrics(67.58), seed=1, max_iters=3),
        'seggan_seed0':
        dict(
            metrics=_metrics(65.30),
            seed=0,
            max_iters=3,
            pair_with='control_seed0'),
    })
    table = summary_markdown(record)
    assert '| baseline | 30 | 0 | 67.62 | 67.62 | 77.62 | 87.62 |' in table
    assert '| control | 3 | 0, 1 | 67.36 ± 0.31 |' in table
    assert '| 65.30 | 65.30 | 75.30 | 85.30 | -1.84 (n=1) |' in table
    assert '± 0.00' not in table
    assert '| seggan |  | 0 | 67.14 | 65.30 | -1.84 |' in \
        paired_differences(record)


def test_config_links_from_docs_and_absolute_ones_as_they_are():
    """Bug: compare.py's derived configs (absolute paths in its work root)
    were linked as ``..//work/...`` in summary.md."""
    record = _record({
        'baseline':
        dict(
            metrics=_metrics(67.62),
            seed=0,
            max_iters=30,
            config='configs/a.py'),
        'control_seed0':
        dict(
            metrics=_metrics(67.14),
            seed=0,
            max_iters=3,
            config='/root/work/configs/control.py'),
    })
    table = summary_markdown(record)
    assert '[config](../configs/a.py)' in table
    assert '[config](/root/work/configs/control.py)' in table
