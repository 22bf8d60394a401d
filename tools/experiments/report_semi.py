"""Tables and the plot of the semi-supervised protocol (run_semi_protocol).

Reads ``WORK_ROOT/<dataset>-1-K/protocol.json`` for every fraction found
(and the fully labeled ImageNet protocol's control, the upper reference,
from ``--full-root``), prints per dataset the arm table (mean ± std, the
paired difference to arm (a)) and writes
``results_semi_<dataset>.png``: mIoU against the labeled fraction, one line
per arm, error bars = std over the runs.

Example::

    python tools/experiments/report_semi.py stanford-bg camvid --out-dir docs
"""
import argparse
import glob
import json
import os
import os.path as osp
import re
import warnings
from typing import Dict, List, Optional

warnings.filterwarnings('ignore')

import matplotlib  # noqa: E402

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

from mmseg_seggan.experiments.semi_protocol import PRESETS  # noqa: E402
from mmseg_seggan.experiments.summary import summarize  # noqa: E402

ARM_LABELS = {
    'control': '(a) CE, labeled only',
    'seggan': '(b) SegGAN, GAN terms on labeled',
    'seggan-semi': '(c) SegGAN-semi, GAN terms on all',
    'pseudo-label': '(d) pseudo-labels (self-training)',
    'baseline': 'baseline (labeled only, start of all arms)',
}
ARM_COLORS = {
    'control': '#1f77b4',
    'seggan': '#d62728',
    'seggan-semi': '#9467bd',
    'pseudo-label': '#2ca02c',
    'baseline': '#7f7f7f',
}


def load_fractions(work_root: str, dataset: str) -> Dict[int, dict]:
    """``{K: record}`` of every finished-or-not fraction 1/K."""
    out = {}
    for path in glob.glob(
            osp.join(work_root, f'{dataset}-1-*', 'protocol.json')):
        k = int(re.search(r'-1-(\d+)$', osp.dirname(path)).group(1))
        with open(path) as f:
            record = json.load(f)
        record['summary'] = summarize(record)
        out[k] = record
    return dict(sorted(out.items(), reverse=True))


def full_reference(full_root: str, dataset: str) -> Optional[dict]:
    """The fully labeled protocol's summary (its control is the reference)."""
    path = osp.join(full_root, PRESETS[dataset]['full'], 'protocol.json')
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return summarize(json.load(f))


def table(dataset: str, fractions: Dict[int, dict],
          full: Optional[dict]) -> str:
    lines = [
        f'#### {dataset}', '',
        '| Labeled | Arm | Runs | mIoU | mAcc | aAcc | arm - (a), paired |',
        '|---|---|---|---|---|---|---|'
    ]
    for k, record in fractions.items():
        for arm, e in record['summary'].items():
            pm = lambda m: f'{e[m]["mean"]:.2f} ± {e[m]["std"]:.2f}'  # noqa
            p = e.get('paired')
            paired = f'{p["mean"]:+.2f} ± {p["std"]:.2f}' if p else ''
            lines.append(f'| 1/{k} | {ARM_LABELS.get(arm, arm)} | '
                         f'{e["mIoU"]["n"]} | {pm("mIoU")} | {pm("mAcc")} | '
                         f'{pm("aAcc")} | {paired} |')
    if full and 'control' in full:
        e = full['control']
        lines.append(f'| all | fully labeled CE control (upper reference) | '
                     f'{e["mIoU"]["n"]} | {e["mIoU"]["mean"]:.2f} ± '
                     f'{e["mIoU"]["std"]:.2f} | {e["mAcc"]["mean"]:.2f} | '
                     f'{e["aAcc"]["mean"]:.2f} | |')
    return '\n'.join(lines) + '\n'


def plot(dataset: str, fractions: Dict[int, dict], full: Optional[dict],
         out: str) -> None:
    fig, ax = plt.subplots(figsize=(6, 4))
    ks = sorted(fractions, reverse=True)  # 1/8 before 1/4
    for i, arm in enumerate(ARM_LABELS):
        pts = [(1 / k, fractions[k]['summary'][arm]['mIoU']) for k in ks
               if arm in fractions[k]['summary']]
        if not pts:
            continue
        x = [p[0] + (i - 2) * 0.003 for p in pts]  # dodge error bars
        ax.errorbar(
            x, [p[1]['mean'] for p in pts],
            yerr=[p[1]['std'] for p in pts],
            marker='o',
            capsize=3,
            color=ARM_COLORS[arm],
            label=ARM_LABELS[arm])
    if full and 'control' in full:
        ax.axhline(
            full['control']['mIoU']['mean'],
            ls='--',
            color='k',
            lw=1,
            label='all labels, CE control')
    ax.set_xticks([1 / k for k in ks])
    ax.set_xticklabels([f'1/{k}' for k in ks])
    ax.set_xlabel('labeled fraction of the training images')
    ax.set_ylabel('mIoU (%)')
    ax.set_title(f'{dataset}: semi-supervised arms (mean ± std)', fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=80)
    plt.close(fig)


def main(argv: Optional[List[str]] = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('datasets', nargs='+', choices=sorted(PRESETS))
    parser.add_argument('--work-root', default='work_dirs/semi')
    parser.add_argument('--full-root', default='work_dirs/protocol')
    parser.add_argument('--out-dir', default='docs')
    args = parser.parse_args(argv)
    os.makedirs(args.out_dir, exist_ok=True)
    text = []
    for ds in args.datasets:
        fractions = load_fractions(args.work_root, ds)
        if not fractions:
            continue
        full = full_reference(args.full_root, ds)
        text.append(table(ds, fractions, full))
        out = osp.join(args.out_dir, f'results_semi_{ds}.png')
        plot(ds, fractions, full, out)
        text.append(f'plot: {out}\n')
    print('\n'.join(text))
    return '\n'.join(text)


if __name__ == '__main__':
    main()
