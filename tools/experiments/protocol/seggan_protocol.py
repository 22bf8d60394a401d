"""The SegGAN protocol: baseline, phase 1, phase-2 arms x seeds, tests.

Stages (each one resumable; see :mod:`.protocol` for how a stage is
identified and why a changed setting never reuses an old result)::

    baseline                  tools/train.py BASELINE           -> iter_N.pth
    gan_pretrain_ganG         tools/train.py GAN (phase 1 only; it never
                              runs the segmentor, so it runs beside the
                              baseline)                         -> iter_G.pth
    control_seedS             tools/train.py CONTROL  load_from=baseline,
                              G and D from gan_pretrain (first seed)
    seggan_ganG_seedS         tools/train.py FINETUNE load_from=baseline,
                              G and D from gan_pretrain_ganG
    seggan-V_ganG_seedS       the same with the overrides of ``--variant V``
    gan_pretrain-W_ganG,      phase 1 and SegGAN with another generator
    seggan-W_ganG_seedS       (``--gan-variant W KEY=VALUE``)
    control-xK_seedS,         the schedule check: one seed pair at K times
    seggan-xK_ganG_seedS      the phase-2 iterations (``--schedule-check K``)
    */test                    tools/test.py -> metrics (mmengine's JSON)

The CE-only control never runs G or D: one control per phase-2 seed (and
schedule), and every phase-1 seed's SegGAN run is paired with it.
``WORK_ROOT/<name>/protocol.json`` records versions, CPU capability,
threads, precision, seeds, every attempt's command, log and wall time, the
config of every stage, checkpoints (with SHA-256) and metrics;
``summary.md`` has the tables.
"""
import argparse
import os.path as osp
import re
from typing import List, Optional, Sequence

from .engine import (Protocol, Stage, add_run_options, protocol_from_args,
                     run_protocol)
from .summary import (environment_line, paired_differences, stage_name,
                      summarize, summary_markdown, wall_times)

LITE0 = 'deeplabv3_lite0-d16_1xb8'
EXP = 'configs/experiments'


def _lite0(ds: str, base_iters: str) -> dict:
    return dict(
        baseline=f'configs/deeplabv3/{LITE0}-{base_iters}_{ds}.py',
        gan_pretrain=f'configs/seggan/seggan-gan-pretrain_{LITE0}-2000it_'
        f'{ds}.py',
        finetune=f'configs/seggan/seggan-finetune_{LITE0}-300it_{ds}.py',
        control=f'configs/seggan/seggan-finetune-control_{LITE0}-300it_'
        f'{ds}.py')


def _r18(ds: str) -> dict:
    return dict(
        baseline=f'{EXP}/deeplabv3_r18-d16_1xb4-600it_{ds}-120x160.py',
        gan_pretrain=f'{EXP}/seggan-gan-pretrain_deeplabv3_r18-d16_1xb4-'
        f'300it_{ds}-120x160.py',
        finetune=f'{EXP}/seggan-finetune_deeplabv3_r18-d16_1xb4-150it_'
        f'{ds}-120x160.py',
        control=f'{EXP}/seggan-finetune-control_deeplabv3_r18-d16_1xb4-'
        f'150it_{ds}-120x160.py')


PRESETS = {
    # ImageNet-pre-trained DeepLabV3-Lite0 (the paper's regime).
    'stanford-bg-lite0': _lite0('stanford-bg-240x320', '3k'),
    'camvid-lite0': _lite0('camvid-180x240', '2k'),
    # The from-scratch CPU protocol (ResNet-18, 120x160).
    'camvid': _r18('camvid'),
    'stanford-bg': _r18('stanford-bg'),
}
CONFIG_KEYS = ('baseline', 'gan_pretrain', 'finetune', 'control')
TEST_OPTIONS = ['test_evaluator.type=PerClassIoUMetric']


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Baseline || phase-1 GAN -> phase-2 arms (CE-only '
        'control and SegGAN) x seeds -> test each -> summary.')
    parser.add_argument(
        'dataset',
        help=f'name of the run ({", ".join(PRESETS)} pick their '
        'configs; any other name needs all four config flags)')
    parser.add_argument(
        '--work-root',
        default='work_dirs/protocol',
        help='where the work dirs go (default %(default)s)')
    for key in CONFIG_KEYS:
        parser.add_argument(
            f'--{key.replace("_", "-")}',
            dest=key,
            help=f'{key} config (default: the preset of the dataset)')
    parser.add_argument(
        '--seeds',
        type=int,
        nargs='+',
        default=[0, 1, 2],
        help='seeds of the phase-2 arms (default 0 1 2)')
    parser.add_argument(
        '--base-seed',
        type=int,
        default=0,
        help='seed of the baseline (and of phase 1 without --gan-seeds)')
    parser.add_argument(
        '--gan-seeds',
        type=int,
        nargs='+',
        help='phase-1 seeds: phase 1 runs once per seed and every SegGAN '
        'arm on each (default: the base seed)')
    parser.add_argument(
        '--baseline-checkpoint',
        help='a trained baseline (iter_N.pth), used instead of training one')
    parser.add_argument(
        '--gan-checkpoint',
        help='a phase-1 checkpoint (generator.* and discriminator.*), used '
        'instead of training phase 1 for the first --gan-seeds seed: e.g. '
        'the arms again under --amp from an fp32 protocol\'s baseline and '
        'phase 1, in another --work-root')
    parser.add_argument(
        '--baseline-iters',
        type=int,
        help='override the baseline iterations (and its PolyLR end)')
    parser.add_argument(
        '--gan-iters', type=int, help='override the phase-1 iterations')
    parser.add_argument(
        '--finetune-iters',
        type=int,
        help='override the phase-2 iterations of every arm')
    parser.add_argument(
        '--variant',
        nargs='+',
        action='append',
        default=[],
        metavar=('NAME', 'KEY=VALUE'),
        help='an extra SegGAN arm "seggan-NAME": the finetune config with '
        'these overrides, on every phase-1 seed (repeatable)')
    parser.add_argument(
        '--gan-variant',
        nargs='+',
        action='append',
        default=[],
        metavar=('NAME', 'KEY=VALUE'),
        help='another G or D (e.g. unet model.generator.type=...): phase 1 '
        '"gan_pretrain-NAME" and arm "seggan-NAME" with these overrides '
        '(repeatable)')
    parser.add_argument(
        '--gan-variant-seeds',
        type=int,
        nargs='+',
        help='phase-1 seeds of the --gan-variant runs (default: the first '
        'phase-1 seed)')
    parser.add_argument(
        '--schedule-check',
        type=int,
        metavar='K',
        help='one seed pair (control-xK, seggan-xK; first seeds) at K '
        'times the phase-2 iterations')
    add_run_options(parser)
    args = parser.parse_args(argv)
    for variant in args.variant + args.gan_variant:
        if not re.fullmatch(r'[\w.]+', variant[0]) or len(variant) < 2 or \
                any('=' not in o for o in variant[1:]):
            parser.error(
                '--variant / --gan-variant take a NAME (letters, '
                f'digits, _ .) and KEY=VALUE overrides; got {variant}')
    names = [v[0] for v in args.variant + args.gan_variant]
    if len(set(names)) != len(names):
        parser.error(f'variant names must differ; got {names}')
    if args.schedule_check is not None and args.schedule_check < 2:
        parser.error('--schedule-check K needs K >= 2')
    preset = PRESETS.get(args.dataset, {})
    for key in CONFIG_KEYS:
        if getattr(args, key) is None:
            if key not in preset:
                parser.error(f'dataset {args.dataset!r} has no preset: give '
                             f'--{key.replace("_", "-")} CONFIG')
            setattr(args, key, preset[key])
    args.gan_seeds = args.gan_seeds or [args.base_seed]
    for key in ('baseline_checkpoint', 'gan_checkpoint'):
        path = getattr(args, key)
        if path and not osp.isfile(path):
            parser.error(f'--{key.replace("_", "-")} {path}: no such file')
        setattr(args, key, path and osp.abspath(path))
    return args


def _iters(key: str, n: Optional[int], gan_config: str = '') -> List[str]:
    """Options that set a stage's length (phase 1: ``gan_iters`` too)."""
    if n is None:
        return []
    out = [f'train_cfg.max_iters={n}']
    if key == 'baseline':
        out.append(f'param_scheduler.0.end={n}')
    if gan_config:
        from mmengine.config import Config

        from mmseg_seggan.utils import gan_iters_key
        out.append(f'{gan_iters_key(Config.fromfile(gan_config))}={n}')
    return out


def build(p: Protocol, a: argparse.Namespace) -> None:
    """The stage graph of one invocation, in the order stages start."""
    flags = ['--amp'] if a.amp else []
    common = list(a.cfg_options)
    if a.baseline_checkpoint:  # trained already: not trained again
        p.external['baseline'] = a.baseline_checkpoint
    if a.gan_checkpoint:
        p.external[f'gan_pretrain_gan{a.gan_seeds[0]}'] = a.gan_checkpoint
    for name, path in p.external.items():  # on the record as its checkpoint
        p.record['stages'].setdefault(name, {}).update(
            checkpoint=path, external=True)

    def test(name: str, config: str, overrides: Sequence[str] = ()) -> None:
        # the arm's overrides build the model it trained (a U-Net G's
        # checkpoint does not load into the plain G the config names)
        p.add_test(name, config, common + list(overrides) + TEST_OPTIONS)

    if 'baseline' not in p.external:  # else a trained one is given
        p.add(
            Stage(
                'baseline',
                'train',
                a.baseline,
                common + _iters('baseline', a.baseline_iters) +
                [f'randomness.seed={a.base_seed}'],
                seed=a.base_seed,
                flags=flags))
    test('baseline', a.baseline)
    gan_variants = {v[0]: v[1:] for v in a.gan_variant}
    gan_jobs = [(None, g) for g in a.gan_seeds
                ] + [(v, g) for v in gan_variants
                     for g in (a.gan_variant_seeds or a.gan_seeds[:1])]
    for variant, g in gan_jobs:
        stage = 'gan_pretrain' + (f'-{variant}' if variant else '')
        if f'{stage}_gan{g}' in p.external:
            continue
        p.add(
            Stage(
                f'{stage}_gan{g}',
                'train',
                a.gan_pretrain,
                common +
                _iters('gan', a.gan_iters, osp.join(p.repo, a.gan_pretrain)) +
                gan_variants.get(variant, []) + [f'randomness.seed={g}'],
                seed=g,
                flags=flags,
                info=dict(overrides=gan_variants.get(variant, []))))
    ft = _iters('finetune', a.finetune_iters)
    first = a.gan_seeds[0]
    variants = {f'seggan-{v[0]}': v[1:] for v in a.variant}

    def arm(name: str, config: str, seed: int, gan_stage: str,
            overrides: List[str], iters: List[str], pair: str) -> None:
        p.add(
            Stage(
                name,
                'train',
                config,
                common + iters + overrides + [f'randomness.seed={seed}'], {
                    'load_from': 'baseline',
                    'generator': gan_stage,
                    'discriminator': gan_stage
                },
                seed=seed,
                flags=flags,
                info=dict(overrides=overrides, pair_with=pair)))
        test(name, config, overrides)

    # phase-2 seed first: a partial run already has every arm per seed
    for seed in a.seeds:
        control = stage_name('control', seed)
        arm(control, a.control, seed, f'gan_pretrain_gan{first}', [], ft, None)
        for g in a.gan_seeds:
            arm(
                stage_name('seggan', seed, g), a.finetune, seed,
                f'gan_pretrain_gan{g}', [], ft, control)
            for v, overrides in variants.items():
                arm(
                    stage_name(v, seed, g), a.finetune, seed,
                    f'gan_pretrain_gan{g}', overrides, ft, control)
    # then the other generators, then the schedule check (the order of
    # priority when the machine's time runs short)
    for seed in a.seeds:
        control = stage_name('control', seed)
        for v, overrides in gan_variants.items():
            for g in (a.gan_variant_seeds or a.gan_seeds[:1]):
                arm(
                    stage_name(f'seggan-{v}', seed, g), a.finetune, seed,
                    f'gan_pretrain-{v}_gan{g}', overrides, ft, control)
    if a.schedule_check:
        k, seed = a.schedule_check, a.seeds[0]
        iters = p.max_iters(Stage('probe', 'train', a.finetune,
                                  common + ft)) * k
        long = [
            f'train_cfg.max_iters={iters}',
            f'default_hooks.checkpoint.interval={max(1, iters // 5)}'
        ]
        control = stage_name(f'control-x{k}', seed)
        arm(control, a.control, seed, f'gan_pretrain_gan{first}', [], long,
            None)
        arm(
            stage_name(f'seggan-x{k}', seed, first), a.finetune, seed,
            f'gan_pretrain_gan{first}', [], long, control)


def finish(p: Protocol) -> None:
    """Summary into the record and ``summary.md``."""
    p.record['summary'] = summarize(p.record)
    p.save()
    md = '\n'.join([
        summary_markdown(p.record), '',
        paired_differences(p.record),
        wall_times(p.record),
        environment_line(p.record), ''
    ])
    with open(osp.join(p.root, 'summary.md'), 'w') as f:
        f.write(md)
    print(md)
    print(f'Work dirs and checkpoints: {p.root}\nRecord: {p.record_path}')


def main(argv: Optional[List[str]] = None, repo: str = '.') -> dict:
    a = parse_args(argv)
    p, invocation = protocol_from_args(a, osp.join(a.work_root, a.dataset),
                                       osp.abspath(repo), a.dataset, argv)
    invocation['configs'] = {k: getattr(a, k) for k in CONFIG_KEYS}
    invocation.update(
        baseline_checkpoint=a.baseline_checkpoint,
        gan_checkpoint=a.gan_checkpoint)
    return run_protocol(p, lambda p: build(p, a), invocation, finish)
