"""Tables and the plot of the semi-supervised protocol (run_semi_protocol).

Reads ``WORK_ROOT/<dataset>-1-K/protocol.json`` for every fraction found
(and the fully labeled ImageNet protocol's control, the upper reference,
from ``--full-root``: its work root or its exported record), prints per
dataset the arm table (mean ± std), the paired differences (c) - (a),
(c) - (b) and (c) - (d) run by run (same seeds), the machine, and writes
``results_semi_<dataset>.png``: mIoU against the labeled fraction, one line
per arm, error bars = std over the runs. ``--merge`` pools records
exported by ``export_record.py`` (a fraction whose work dir is gone is
read from its record alone).

Example::

    python tools/experiments/report_semi.py stanford-bg camvid --out-dir docs
"""
import argparse
import glob
import os
import os.path as osp
import re
import sys
from typing import Dict, List, Optional, Sequence

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # ./protocol
from protocol.carried_record import add_merge_option  # noqa: E402
from protocol.carried_record import merge_records  # noqa: E402
from protocol.records import read_record  # noqa: E402
from protocol.semi_protocol import PRESETS  # noqa: E402
from protocol.summary import (
    environment_line,
    format_mean_std,  # noqa: E402
    mean_std,
    metric_cells,
    paired_between,
    paired_cell,
    summarize)

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
#: The issue's questions: semi-supervised SegGAN against each other arm.
DIFFERENCES = (('seggan-semi', 'control'), ('seggan-semi', 'seggan'),
               ('seggan-semi', 'pseudo-label'))
_NAME = re.compile(r'-1-(\d+)$')


def load_fractions(work_root: str, dataset: str,
                   merge: Sequence[str] = ()) -> Dict[int, dict]:
    """``{K: record}`` of every fraction 1/K, finished or not, 1/8 first;
    the records in ``merge`` pooled into the fraction of their name."""
    out = {}
    for path in glob.glob(
            osp.join(work_root, f'{dataset}-1-*', 'protocol.json')):
        k = int(_NAME.search(osp.dirname(path)).group(1))
        out[k] = read_record(path)
    for path in merge:
        carried = read_record(path)
        name = carried.get('protocol', '')
        m = _NAME.search(name)
        if not name.startswith(f'{dataset}-1-') or not m:
            continue
        k = int(m.group(1))
        out[k] = merge_records(out[k], carried, path) if k in out \
            else carried
    for record in out.values():
        record['summary'] = summarize(record)
    return dict(sorted(out.items(), reverse=True))


def full_reference(full_root: str, dataset: str) -> Optional[dict]:
    """The fully labeled protocol's summary (its control is the reference).

    ``full_root`` is its work root or, once the work dirs are gone, the
    record ``export_record.py`` wrote of it (``docs/records/*.json``).
    """
    name = PRESETS[dataset]['full']
    path = full_root if osp.isfile(full_root) else osp.join(
        full_root, name, 'protocol.json')
    if not osp.isfile(path):
        return None
    record = read_record(path)
    if record.get('protocol') != name:
        raise SystemExit(
            f'{path} is the record of {record.get("protocol")!r}, not of '
            f'{name!r}, the fully labeled reference of {dataset}: give '
            f'--full-root the work root or record of {name}')
    return summarize(record)


def table(dataset: str, fractions: Dict[int, dict],
          full: Optional[dict]) -> str:
    lines = [
        f'#### {dataset}', '',
        '| Labeled | Arm | Runs | mIoU | mAcc | aAcc | arm - (a), paired |',
        '|---|---|---|---|---|---|---|'
    ]
    for k, record in fractions.items():
        for arm, e in record['summary'].items():
            lines.append(f'| 1/{k} | {ARM_LABELS.get(arm, arm)} | '
                         f'{e["mIoU"]["n"]} | {metric_cells(e)} | '
                         f'{paired_cell(e)} |')
    if full and 'control' in full:
        e = full['control']
        lines.append(f'| all | fully labeled CE control (upper reference) | '
                     f'{e["mIoU"]["n"]} | {metric_cells(e)} | |')
    return '\n'.join(lines) + '\n'


def differences(fractions: Dict[int, dict]) -> str:
    """(c) - (a), (c) - (b), (c) - (d): mIoU, run by run with the same
    seeds, then mean ± std over the pairs."""
    lines = [
        '| Labeled | Difference (mIoU) | Pairs (phase-1/phase-2 seed: '
        'value) | mean ± std |', '|---|---|---|---|'
    ]
    for k, record in fractions.items():
        for arm, other in DIFFERENCES:
            pairs = paired_between(record, arm, other)
            if not pairs:
                continue
            diffs = [m['mIoU'] - o['mIoU'] for _, _, o, m in pairs]
            runs = ', '.join(f'{"-" if g is None else g}/{s}: {d:+.2f}'
                             for (g, s, _, _), d in zip(pairs, diffs))
            label = f'{ARM_LABELS[arm][:3]} - {ARM_LABELS[other][:3]}'
            lines.append(f'| 1/{k} | {label} | {runs} | '
                         f'{format_mean_std(mean_std(diffs), True, True)} |')
    return '\n'.join(lines) + '\n'


def plot(dataset: str, fractions: Dict[int, dict], full: Optional[dict],
         out: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8.5, 4))
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
    # room for the dodged error bars at both ends
    ax.set_xlim(1 / ks[0] - 0.02, 1 / ks[-1] + 0.02)
    ax.set_xticklabels([f'1/{k}' for k in ks])
    ax.set_xlabel('labeled fraction of the training images')
    ax.set_ylabel('mIoU (%)')
    ax.set_title(f'{dataset}: semi-supervised arms (mean ± std)', fontsize=10)
    ax.legend(fontsize=7, loc='upper left', bbox_to_anchor=(1.02, 1))
    fig.tight_layout()
    fig.savefig(out, dpi=80)
    plt.close(fig)


def main(argv: Optional[List[str]] = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('datasets', nargs='+', choices=sorted(PRESETS))
    parser.add_argument('--work-root', default='work_dirs/semi')
    parser.add_argument(
        '--full-root',
        default='work_dirs/protocol',
        help='work root of the fully labeled protocol, or its exported '
        'record (docs/records/<name>_DATE.json)')
    parser.add_argument('--out-dir', default='docs')
    add_merge_option(parser, 'their finished arms')
    args = parser.parse_args(argv)
    os.makedirs(args.out_dir, exist_ok=True)
    text = []
    for ds in args.datasets:
        fractions = load_fractions(args.work_root, ds, args.merge)
        if not fractions:
            text.append(f'#### {ds}\n\nno semi-supervised protocol under '
                        f'{args.work_root} (run_semi_protocol.py {ds} '
                        '--fraction K)\n')
            continue
        full = full_reference(args.full_root, ds)
        text += [table(ds, fractions, full), differences(fractions)]
        if full is None:
            text.append(
                f'no fully labeled reference ({PRESETS[ds]["full"]}) under '
                f'{args.full_root}: give --full-root its work root or its '
                'exported record')
        text += [f'1/{k}: {environment_line(r)}' for k, r in fractions.items()]
        out = osp.join(args.out_dir, f'results_semi_{ds}.png')
        plot(ds, fractions, full, out)
        text.append(f'\nplot: {out}\n')
    print('\n'.join(text))
    return '\n'.join(text)


if __name__ == '__main__':
    main()
