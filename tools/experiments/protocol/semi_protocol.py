"""Semi-supervised SegGAN protocol: four arms on a labeled fraction 1/K.

For one dataset and one labeled fraction (split files written by
``tools/dataset_converters/make_semi_splits.py``), resumable and
identified stage by stage like :mod:`.seggan_protocol`::

    baseline               labeled images only, from ImageNet
    gan_pretrain_ganG      phase 1 on the labeled images, per phase-1 seed
    control_seedS          (a) CE on the labeled images       } 4 labeled
    seggan_ganG_seedS      (b) SegGAN, GAN terms on labeled   } per batch
    seggan-semi_ganG_seedS (c) SegGAN, GAN terms on labeled + unlabeled
    pseudo-label_seedS     (d) CE + confident pseudo-labels    } 4 + 4
    */test                 the test split -> metrics

Every arm starts from the baseline segmentor (``load_from``) and phase 1's
G and D of its phase-1 seed (arms (a) and (d) use no G or D: they run once
per phase-2 seed). Each arm is paired with the control of the same
phase-2 seed.
"""
import argparse
import os.path as osp
from typing import Dict, List, Optional

from .engine import (Protocol, Stage, add_run_options, protocol_from_args,
                     run_protocol)
from .seggan_protocol import TEST_OPTIONS
from .summary import metric_cells, paired_cell, stage_name, summarize

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
    parser.add_argument('--gan-seeds', type=int, nargs='+', default=[0])
    parser.add_argument('--base-seed', type=int, default=0)
    parser.add_argument(
        '--arms',
        nargs='+',
        choices=list(ARMS),
        default=list(ARMS),
        help='which phase-2 arms to run (default all four)')
    add_run_options(parser)
    args = parser.parse_args(argv)
    if args.fraction < 1:
        parser.error(
            f'--fraction K means 1/K of the labels; got {args.fraction}')
    args.name = f'{args.dataset}-1-{args.fraction}'
    return args


def split_options(a: argparse.Namespace, key: str) -> List[str]:
    """The ann_file overrides that select the fraction."""
    split = PRESETS[a.dataset]['split_dir']
    labeled = f'{split}/labeled_1-{a.fraction}.txt'
    if key in ('semi', 'pseudo'):
        return [
            f'train_dataloader.dataset.datasets.0.ann_file={labeled}',
            'train_dataloader.dataset.datasets.1.ann_file='
            f'{split}/unlabeled_1-{a.fraction}.txt'
        ]
    return [f'train_dataloader.dataset.ann_file={labeled}']


def build(p: Protocol, a: argparse.Namespace) -> None:
    configs = PRESETS[a.dataset]['configs']
    flags = ['--amp'] if a.amp else []
    common = list(a.cfg_options)

    def test(name: str, config: str) -> None:
        p.add_test(name, config, common + TEST_OPTIONS)

    p.add(
        Stage(
            'baseline',
            'train',
            configs['baseline'],
            common + split_options(a, 'baseline') +
            [f'randomness.seed={a.base_seed}'],
            seed=a.base_seed,
            flags=flags))
    test('baseline', configs['baseline'])
    for g in a.gan_seeds:
        p.add(
            Stage(
                f'gan_pretrain_gan{g}',
                'train',
                configs['gan_pretrain'],
                common + split_options(a, 'gan') + [f'randomness.seed={g}'],
                seed=g,
                flags=flags))
    first = a.gan_seeds[0]
    for seed in a.seeds:
        control = stage_name('control', seed)
        for arm in a.arms:
            key, per_gan = ARMS[arm]
            for g in (a.gan_seeds if per_gan else [None]):
                name = stage_name(arm, seed, g)
                gan = f'gan_pretrain_gan{first if g is None else g}'
                p.add(
                    Stage(
                        name,
                        'train',
                        configs[key],
                        common + split_options(a, key) +
                        [f'randomness.seed={seed}'], {
                            'load_from': 'baseline',
                            'generator': gan,
                            'discriminator': gan
                        },
                        seed=seed,
                        flags=flags,
                        info=dict(
                            pair_with=None if arm == 'control' else control)))
                test(name, configs[key])


def finish(p: Protocol) -> None:
    p.record['summary'] = summarize(p.record)
    p.save()
    md = semi_markdown(p.record)
    with open(osp.join(p.root, 'summary.md'), 'w') as f:
        f.write(md)
    print(md)


def semi_markdown(record: dict) -> str:
    """The arm table of one dataset and fraction."""
    s = record['summary']
    semi = record.get('semi', {})
    lines = [
        f'### {record.get("protocol")} ({semi.get("fraction")} labeled)', '',
        '| Arm | Runs | mIoU | mAcc | aAcc | arm - (a) control, paired |',
        '|---|---|---|---|---|---|'
    ]
    for arm, e in s.items():
        lines.append(f'| {arm} | {e["mIoU"]["n"]} | {metric_cells(e)} | '
                     f'{paired_cell(e)} |')
    return '\n'.join(lines) + '\n'


def main(argv: Optional[List[str]] = None, repo: str = '.') -> dict:
    a = parse_args(argv)
    p, invocation = protocol_from_args(a, osp.join(a.work_root, a.name),
                                       osp.abspath(repo), a.name, argv)
    invocation['arms'] = a.arms
    preset = PRESETS[a.dataset]
    split = preset['split_dir']

    def build_all(p: Protocol) -> None:
        p.record['semi'] = dict(
            fraction=f'1/{a.fraction}',
            labeled_split=f'{split}/labeled_1-{a.fraction}.txt',
            unlabeled_split=f'{split}/unlabeled_1-{a.fraction}.txt',
            configs=preset['configs'],
            full_protocol=preset['full'])
        build(p, a)

    return run_protocol(p, build_all, invocation, finish)
