"""Markdown tables of finished protocol runs (``run_protocol.py``).

Prints, per dataset: the arm table (mIoU mean ± std over seeds, the
per-seed values, mAcc, aAcc; ablation arms ``seggan-NAME`` too), the
per-class IoU table, the paired SegGAN - control differences per seed, and
the wall time of every stage.

Example::

    python tools/experiments/summarize.py camvid stanford-bg
"""
import argparse
import json
import os.path as osp
import sys
from typing import List, Optional

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from run_protocol import paired_runs, summarize  # noqa: E402
from run_protocol import summary_markdown  # noqa: E402


def _mean_std(values: List[float]) -> str:
    mean = sum(values) / len(values)
    if len(values) < 2:
        return f'{mean:+.2f}'
    std = (sum((d - mean)**2 for d in values) / (len(values) - 1))**0.5
    return f'{mean:+.2f} ± {std:.2f}'


def paired_differences(record: dict) -> str:
    """Each SegGAN arm minus the control of the same seeds (same start,
    same data order); with several phase-1 seeds also the mean per phase-1
    seed, which shows how much one trained G and D moves the result.
    """
    arms = [a for a in record['summary'] if a.startswith('seggan')]
    rows = [
        '| Arm | Phase-1 seed | Phase-2 seed | control mIoU | arm mIoU | '
        'arm - control |', '|---|---|---|---|---|---|'
    ]
    for arm in arms:
        pairs = paired_runs(record, arm)
        diffs, by_gan = [], {}
        for gan, seed, c, m in pairs:
            d = m['mIoU'] - c['mIoU']
            diffs.append(d)
            by_gan.setdefault(gan, []).append(d)
            rows.append(f'| {arm} | {"" if gan is None else gan} | {seed} | '
                        f'{c["mIoU"]:.2f} | {m["mIoU"]:.2f} | {d:+.2f} |')
        if len(by_gan) > 1:
            for gan, ds in sorted(by_gan.items()):
                rows.append(f'| {arm} | {gan} | mean ± std | | | '
                            f'{_mean_std(ds)} |')
        if len(diffs) > 1:
            rows.append(f'| {arm} | all | mean ± std | | | '
                        f'{_mean_std(diffs)} |')
    return '\n'.join(rows) + '\n'


def wall_times(record: dict) -> str:
    rows = [
        '| Stage | Iters | Train wall (s) | Test wall (s) |',
        '|---|---|---|---|'
    ]
    total = 0.
    for name, st in record['stages'].items():
        tr = st.get('train', {}).get('wall_s', 0.)
        te = st.get('test', {}).get('wall_s', 0.)
        total += tr + te
        rows.append(f'| {name} | {st.get("max_iters", "")} | {tr:.0f} | '
                    f'{te:.0f} |' if te else
                    f'| {name} | {st.get("max_iters", "")} | {tr:.0f} | - |')
    rows.append(f'| total (sum of stages) | | {total:.0f} | |')
    return '\n'.join(rows) + '\n'


def main(argv: Optional[List[str]] = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('datasets', nargs='+')
    parser.add_argument('--work-root', default='work_dirs/protocol')
    args = parser.parse_args(argv)
    out = []
    for ds in args.datasets:
        with open(osp.join(args.work_root, ds, 'protocol.json')) as f:
            record = json.load(f)
        record['summary'] = summarize(record)  # also for unfinished runs
        env = record['environment']
        out += [
            summary_markdown(record), '',
            paired_differences(record),
            wall_times(record),
            f'torch {env["torch"]}, mmengine {env["mmengine"]}, mmseg '
            f'{env["mmseg"]}, {env["cpu"]}, {env["nproc"]} CPUs, '
            f'{env["threads_per_run"]} thread(s) per run, jobs '
            f'{env["jobs"]}, nice {env["nice"]}.', ''
        ]
    text = '\n'.join(out)
    print(text)
    return text


if __name__ == '__main__':
    main()
