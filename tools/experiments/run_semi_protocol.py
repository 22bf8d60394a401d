"""Semi-supervised SegGAN protocol: four arms on a labeled fraction.

For one dataset and one labeled fraction 1/K (split files written by
``tools/dataset_converters/make_semi_splits.py``), resumable stage by
stage like ``run_protocol.py`` (same record, ``protocol.json``)::

    baseline               labeled images only, from ImageNet
    gan_pretrain_ganG      phase 1 on the labeled images, per phase-1 seed
    control_seedS          (a) CE on the labeled images       } 4 labeled
    seggan_ganG_seedS      (b) SegGAN, GAN terms on labeled   } per batch
    seggan-semi_ganG_seedS (c) SegGAN, GAN terms on labeled + unlabeled
    pseudo-label_seedS     (d) CE + confident pseudo-labels    } 4 + 4
    */test                 the test split -> metrics.json

Arms (a) and (d) use no G or D: they start from the first phase-1
checkpoint (its segmentor is the baseline's, the same for every phase-1
seed) and run once per phase-2 seed. Arms (b) and (c) run on every
phase-1 seed. Each SegGAN arm is paired with the control of the same
phase-2 seed.

Example (both fractions of both datasets, as in ``docs/results.md``)::

    python tools/experiments/run_semi_protocol.py stanford-bg --fraction 8
    python tools/experiments/run_semi_protocol.py stanford-bg --fraction 4
    python tools/experiments/run_semi_protocol.py camvid --fraction 8
    python tools/experiments/run_semi_protocol.py camvid --fraction 4
"""
import argparse
import os
import os.path as osp
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Optional

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from run_protocol import REPO, Protocol, _mean_std  # noqa: E402
from run_protocol import parse_stage_name, stage_name  # noqa: E402

SEMI = 'configs/seggan_semi'
LITE0 = 'deeplabv3_lite0-d16'


def _configs(ds: str) -> Dict[str, str]:
    return dict(
        baseline=f'{SEMI}/{LITE0}_1xb8-1k_{ds}_labeled-1-8.py',
        gan_pretrain=f'{SEMI}/seggan-gan-pretrain_{LITE0}_1xb8-1000it_{ds}_'
        'labeled-1-8.py',
        control=f'{SEMI}/seggan-finetune-control_{LITE0}_1xb4-300it_{ds}_'
        'labeled-1-8.py',
        seggan=f'{SEMI}/seggan-finetune_{LITE0}_1xb4-300it_{ds}_'
        'labeled-1-8.py',
        semi=f'{SEMI}/seggan-semi_{LITE0}_1xb4+4-300it_{ds}_labeled-1-8.py',
        pseudo=f'{SEMI}/pseudo-label_{LITE0}_1xb4+4-300it_{ds}_'
        'labeled-1-8.py')


PRESETS = {
    'stanford-bg':
    dict(
        configs=_configs('stanford-bg-240x320'),
        split_dir='splits/semi',  # relative to the dataset's data_root
        full='stanford-bg-lite0'),
    'camvid':
    dict(
        configs=_configs('camvid-180x240'),
        split_dir='semi_splits/camvid',
        full='camvid-lite0'),
}
# arm -> (config key, uses G and D: run per phase-1 seed)
ARMS = {
    'control': ('control', False),
    'seggan': ('seggan', True),
    'seggan-semi': ('semi', True),
    'pseudo-label': ('pseudo', False),
}


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Semi-supervised SegGAN: labeled-only baseline, phase 1 '
        'per seed, arms (a)-(d) x seeds, tests, summary.')
    parser.add_argument('dataset', choices=sorted(PRESETS))
    parser.add_argument(
        '--fraction',
        type=int,
        required=True,
        help='K of the labeled fraction 1/K (split files labeled_1-K.txt, '
        'unlabeled_1-K.txt)')
    parser.add_argument('--work-root', default='work_dirs/semi')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--gan-seeds', type=int, nargs='+', default=[0, 1])
    parser.add_argument('--base-seed', type=int, default=0)
    parser.add_argument(
        '--arms',
        nargs='+',
        choices=list(ARMS),
        default=list(ARMS),
        help='which phase-2 arms to run (default all four)')
    parser.add_argument('--cfg-options', nargs='+', default=[])
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--jobs', type=int, default=1)
    parser.add_argument('--nice', type=int, default=0)
    parser.add_argument('--dry-run', action='store_true')
    args = parser.parse_args(argv)
    preset = PRESETS[args.dataset]
    configs = preset['configs']
    # What Protocol records; the semi arms are in record['semi'].
    args.baseline = configs['baseline']
    args.gan_pretrain = configs['gan_pretrain']
    args.finetune = configs['seggan']
    args.control = configs['control']
    args.gan_seed = None
    args.variant = []
    args.name = f'{args.dataset}-1-{args.fraction}'
    return args


class SemiProtocol(Protocol):
    """``Protocol`` with the split of one fraction and the four arms."""

    def __init__(self, args: argparse.Namespace):
        dataset = args.dataset
        args.dataset = args.name  # the work dir and record name
        super().__init__(args)
        args.dataset = dataset
        preset = PRESETS[dataset]
        k = args.fraction
        split = preset['split_dir']
        self.labeled = f'{split}/labeled_1-{k}.txt'
        self.unlabeled = f'{split}/unlabeled_1-{k}.txt'
        self.record['semi'] = dict(
            fraction=f'1/{k}',
            labeled_split=self.labeled,
            unlabeled_split=self.unlabeled,
            configs=preset['configs'],
            full_protocol=preset['full'])
        self.save()

    def split_options(self, arm_key: str) -> List[str]:
        """The ann_file overrides that select this fraction."""
        if arm_key in ('semi', 'pseudo'):
            return [
                f'train_dataloader.dataset.datasets.0.ann_file={self.labeled}',
                'train_dataloader.dataset.datasets.1.ann_file='
                f'{self.unlabeled}'
            ]
        return [f'train_dataloader.dataset.ann_file={self.labeled}']

    def main(self) -> dict:
        a = self.args
        configs = PRESETS[a.dataset]['configs']
        base_ckpt = self.train('baseline', configs['baseline'], a.base_seed,
                               self.split_options('baseline'))
        self.test('baseline', configs['baseline'], base_ckpt)
        gan_ckpts = {}

        def gan_run(g):
            gan_ckpts[g] = self.train(
                f'gan_pretrain_gan{g}', configs['gan_pretrain'], g,
                self.split_options('gan') + [f'load_from={base_ckpt}'])

        with ThreadPoolExecutor(max(1, min(a.jobs, len(a.gan_seeds)))) as pool:
            list(pool.map(gan_run, a.gan_seeds))
        first = a.gan_seeds[0]
        runs = []
        for seed in a.seeds:
            for arm in a.arms:
                key, per_gan = ARMS[arm]
                for g in (a.gan_seeds if per_gan else [first]):
                    runs.append((arm, key, g if per_gan else None, seed))

        def arm_run(run):
            arm, key, gan, seed = run
            name = stage_name(arm, seed, gan)
            ckpt = self.train(
                name, configs[key], seed,
                self.split_options(key) +
                [f'load_from={gan_ckpts[first if gan is None else gan]}'])
            self.test(name, configs[key], ckpt)

        with ThreadPoolExecutor(max(1, a.jobs)) as pool:
            list(pool.map(arm_run, runs))
        if a.dry_run:
            return {}
        summary = summarize_semi(self.record)
        self.record['summary'] = summary
        self.save()
        md = semi_markdown(self.record)
        with open(osp.join(self.root, 'summary.md'), 'w') as f:
            f.write(md)
        print(md)
        return summary


def summarize_semi(record: dict) -> dict:
    """Per arm: mean +- std over its runs, and paired vs the control."""
    stages = record['stages']
    runs: Dict[str, List[str]] = {}
    for name, st in stages.items():
        parsed = parse_stage_name(name)
        if parsed and 'metrics' in st:
            runs.setdefault(parsed[0], []).append(name)
    out = {}
    if 'metrics' in stages.get('baseline', {}):
        out['baseline'] = {
            k: _mean_std([stages['baseline']['metrics'][k]])
            for k in ('mIoU', 'mAcc', 'aAcc')
        }
    for arm in ARMS:
        names = sorted(runs.get(arm, []))
        if not names:
            continue
        ms = [stages[n]['metrics'] for n in names]
        entry = {
            k: _mean_std([m[k] for m in ms])
            for k in ('mIoU', 'mAcc', 'aAcc')
        }
        entry['runs'] = names
        entry['per_class_IoU'] = {
            c: _mean_std([m['per_class'][c]['IoU'] for m in ms])
            for c in ms[0]['per_class']
        }
        if arm != 'control':
            diffs = []
            for n in names:
                _, _, seed = parse_stage_name(n)
                c = stages.get(stage_name('control', seed), {}).get('metrics')
                if c:
                    diffs.append(stages[n]['metrics']['mIoU'] - c['mIoU'])
            if diffs:
                entry['paired_vs_control'] = _mean_std(diffs)
        out[arm] = entry
    return out


def semi_markdown(record: dict) -> str:
    """The arm table of one dataset and fraction."""
    s = record['summary']
    semi = record['semi']
    lines = [
        f'### {record["dataset"]} ({semi["fraction"]} labeled)', '',
        '| Arm | Runs | mIoU | mAcc | aAcc | arm - (a) control, paired |',
        '|---|---|---|---|---|---|'
    ]
    for arm, e in s.items():
        pm = lambda k: f'{e[k]["mean"]:.2f} ± {e[k]["std"]:.2f}'  # noqa
        p = e.get('paired_vs_control')
        paired = f'{p["mean"]:+.2f} ± {p["std"]:.2f} (n={p["n"]})' if p \
            else ''
        lines.append(f'| {arm} | {e["mIoU"]["n"]} | {pm("mIoU")} | '
                     f'{pm("mAcc")} | {pm("aAcc")} | {paired} |')
    return '\n'.join(lines) + '\n'


def main(argv: Optional[List[str]] = None) -> dict:
    os.chdir(REPO)
    return SemiProtocol(parse_args(argv)).main()


if __name__ == '__main__':
    main()
