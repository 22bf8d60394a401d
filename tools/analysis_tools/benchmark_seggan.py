"""Benchmark SegGAN's cost against plain cross-entropy training.

On one model, batch and crop, it measures:
  * CE-only step (phase 2 with the GAN terms weighted 0: the control),
  * SegGAN phase-2 step (CE + content + adversarial through frozen G and D),
  * phase-1 step (G and D updates),
  * inference of the SegGAN model vs the plain EncoderDecoder,
  * the CE and phase-2 steps under each precision lever: channels-last
    (``ChannelsLastHook``), bf16 autocast NCHW, channels-last + bf16, and
    the policy of ``tools/train.py --amp`` (``BF16PolicyHook``: channels-last,
    bf16, depthwise convolutions fp32, their outputs back in bf16, flipped-
    kernel input gradients of the dilated ones) and the policy without the
    last two (what ``--amp`` did before them),
and the peak memory (CUDA: max allocated; CPU: peak RSS) of the CE and
phase-2 steps in fp32 and under the policy, each in a fresh process.

Every step is timed once per round, in a new random order each round, and a
ratio is the median over rounds of the two steps' ratio within a round: a
slow spell of other load hits both, and no stage always follows another
(the one before warms or pollutes the caches of the next).

Each step's GFLOP/s comes from an analytic FLOP count (``step_cost.py``;
torch's flop counter overcounts depthwise backward a thousandfold), next to
the CPU's own ceiling timed in the same rounds: one 2048x2048 fp32 matmul
and one bf16 matmul (smaller where bf16 is emulated).

Examples:
    python tools/analysis_tools/benchmark_seggan.py configs/seggan_toy.py
    python tools/analysis_tools/benchmark_seggan.py CONFIG --clock cpu \
        --crop 240 320 --batch 8 --iters 10
    # more levers, timed in the same rounds:
    python tools/analysis_tools/benchmark_seggan.py CONFIG \
        --variant policy-gd-fp32 amp=1 "fp32=[depthwise,generator]" \
        --variant no-frozen model.backbone.frozen_stages=-1
"""
import argparse
import copy
import inspect
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
import warnings

from mmengine.config import DictAction

try:  # imported as tools.analysis_tools.benchmark_seggan
    from .step_cost import gemm_gflops, onednn_bf16, step_flops
except ImportError:  # run as a script or imported from this folder
    from step_cost import gemm_gflops, onednn_bf16, step_flops

warnings.filterwarnings('ignore')

STAGES = ('ce', 'phase2', 'phase1', 'infer_seggan', 'infer_plain')
# Precision levers (besides the config as it is, fp32): what each sets.
# amp: tools/train.py --amp (the policy); bf16: autocast wrappers only;
# channels_last: ChannelsLastHook.
LEVERS = {
    'channels-last': dict(channels_last=True),
    'bf16': dict(bf16=True),
    'channels-last+bf16': dict(bf16=True, channels_last=True),
    # the policy before the islands' cast back and the flipped gradients
    'fp32-islands': dict(amp=True, cast_back=False, flip_dilated_grads=False),
    'policy': dict(amp=True),
}
MEMORY = (('ce', 'fp32'), ('phase2', 'fp32'), ('ce', 'policy'), ('phase2',
                                                                 'policy'))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Benchmark SegGAN steps')
    parser.add_argument('config', help='a SegGAN config')
    parser.add_argument(
        '--batch', type=int, help='batch size (default: the config\'s)')
    parser.add_argument(
        '--crop',
        type=int,
        nargs=2,
        metavar=('H', 'W'),
        help='input size (default: data_preprocessor.size)')
    parser.add_argument('--iters', type=int, default=10)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument(
        '--device', help='cpu or cuda (default: cuda if available)')
    parser.add_argument(
        '--gen-widths',
        type=int,
        nargs='+',
        help='also time phase 2 for these G/D base widths')
    parser.add_argument('--json', help='write the results here as well')
    parser.add_argument(
        '--clock',
        choices=['wall', 'cpu'],
        default='wall',
        help='time steps by the wall clock, or by the process\'s CPU time '
        '(1 thread on a CPU shared with other jobs: what a step costs '
        'without their share of the core)')
    parser.add_argument(
        '--skip-memory',
        action='store_true',
        help='no process per step for the peak memory')
    parser.add_argument(
        '--no-levers',
        action='store_true',
        help='time the config only, not the precision levers')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        default={},
        help='override config keys (KEY=VALUE), as in tools/train.py')
    parser.add_argument(
        '--variant',
        nargs='+',
        action='append',
        default=[],
        metavar=('NAME', 'KEY=VALUE'),
        help='also time the CE and phase-2 steps with these overrides, in '
        'the same rounds (repeatable): config keys, and threads=N (intra-op '
        'threads), amp=1 (as --amp), bf16=1 (autocast only), '
        'channels_last=1 (ChannelsLastHook), BF16PolicyHook options: '
        'fp32=[...], cast_back=0, flip_dilated_grads=0')
    parser.add_argument(
        '--stage', choices=STAGES + ('timing', ), help=argparse.SUPPRESS)
    parser.add_argument('--lever', help=argparse.SUPPRESS)
    parser.add_argument('--width', type=int, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def levers(args) -> dict:
    """``{name: options}``: the built-in levers and the ``--variant`` ones.
    """
    out = {} if args.no_levers else copy.deepcopy(LEVERS)
    for name, *pairs in args.variant:
        out[name] = {
            k: DictAction._parse_iterable(v)
            for k, _, v in (p.partition('=') for p in pairs)
        }
    return out


def build(args, stage=None, lever=None):
    """Model, optimizer wrapper(s), a batch, device and size of a stage.

    Args:
        args: The parsed arguments (``config``, ``cfg_options``, ``crop``,
            ``batch``, ``device``, ``width``).
        stage: One of ``STAGES`` (default ``args.stage``).
        lever: Options of a lever (see ``LEVERS``, ``--variant``); None: the
            config as it is.
    """
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import HOOKS, MODELS, OPTIM_WRAPPER_CONSTRUCTORS

    import mmseg_seggan  # noqa: F401
    from mmseg_seggan.engine.hooks import (enable_amp,
                                           segmentor_to_channels_last)
    stage = stage or args.stage
    lever = dict(lever or {})
    lever.pop('threads', None)  # set around the step, not here
    amp, bf16 = lever.pop('amp', False), lever.pop('bf16', False)
    channels_last = lever.pop('channels_last', False)
    policy = {  # BF16PolicyHook's own options
        k: lever.pop(k)
        for k in ('fp32', 'cast_back', 'flip_dilated_grads') if k in lever
    }
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(dict(args.cfg_options, **lever))
    if amp:  # as tools/train.py --amp; measured where emulated too
        cfg.allow_emulated_bf16 = True
        enable_amp(cfg)
    # configs without an mmseg:: model base carry no _scope_ of their own
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model_cfg = copy.deepcopy(cfg.model)
    if getattr(args, 'width', None):
        model_cfg.generator['base_channels'] = args.width
        model_cfg.discriminator['base_channels'] = args.width
    size = tuple(
        args.crop or model_cfg.data_preprocessor.get('size') or (256, 256))
    model_cfg.data_preprocessor['size'] = size
    batch = args.batch or cfg.train_dataloader.batch_size
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    num_classes = model_cfg.decode_head.num_classes
    torch.manual_seed(0)
    if stage == 'infer_plain':
        from mmseg.models import EncoderDecoder
        keys = inspect.signature(EncoderDecoder).parameters
        plain = {k: v for k, v in model_cfg.items() if k in keys}
        plain['type'] = 'EncoderDecoder'
        model = MODELS.build(plain)
    else:
        if stage == 'ce':  # the control: the frozen GAN's terms at 0
            for key in ('phase2_content_loss', 'phase2_adv_loss'):
                model_cfg[key] = dict(
                    model_cfg.get(key) or {}, loss_weight=0.0)
        model_cfg['phase'] = 1 if stage == 'phase1' else 2
        model = MODELS.build(model_cfg)
    model.init_weights()
    model.to(device)
    if channels_last:  # as ChannelsLastHook
        segmentor_to_channels_last(model)
    runner = argparse.Namespace(model=model, logger=_Quiet())
    for hook in cfg.get('custom_hooks', None) or []:
        if hook['type'] == 'BF16PolicyHook':  # as the runner's before_run
            HOOKS.build(dict(hook, **policy)).before_run(runner)
    optim = None
    if stage in ('ce', 'phase2', 'phase1'):
        ow = copy.deepcopy(dict(cfg.optim_wrapper))
        if bf16:
            for net in ('segmentor', 'generator', 'discriminator'):
                ow[net]['type'] = 'BF16AutocastOptimWrapper'
        optim = OPTIM_WRAPPER_CONSTRUCTORS.build(
            dict(type=ow.pop('constructor'), optim_wrapper_cfg=ow))(
                model)
    return model, optim, make_batch(batch, size, num_classes), device, size


class _Quiet:
    """A logger that drops the hooks' messages (one per built model)."""

    def info(self, *args, **kwargs):
        pass


def make_batch(n, size, num_classes):
    """A synthetic batch: random uint8 images and labels."""
    import torch
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    g = torch.Generator().manual_seed(0)
    inputs, samples = [], []
    for _ in range(n):
        inputs.append(
            torch.randint(0, 256, (3, *size), generator=g, dtype=torch.uint8))
        s = SegDataSample()
        s.gt_sem_seg = PixelData(
            data=torch.randint(0, num_classes, (1, *size), generator=g))
        s.set_metainfo(dict(img_shape=size, ori_shape=size, pad_shape=size))
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


def make_step(stage, model, optim, batch, threads=None):
    """One call of the stage: a ``train_step`` or a ``test_step``."""
    import torch

    def step():
        before = torch.get_num_threads()
        if threads:
            torch.set_num_threads(int(threads))
        try:
            if stage.startswith('infer'):
                with torch.no_grad():
                    model.test_step(batch)
            else:
                model.train_step(batch, optim)
        finally:
            torch.set_num_threads(before)

    if stage.startswith('infer'):
        model.eval()
    else:
        model.train()
    return step


def count_step(model, step) -> dict:
    """FLOPs of one ``step``, counted on the model's own G and D.

    The folded copies of a frozen G and D (``fuse_frozen_bn``) are no
    submodules the counter sees; folding removes only BN, no counted FLOP.
    """
    fuse = getattr(model, 'fuse_frozen_bn', False)
    if fuse:
        model.fuse_frozen_bn = False
    try:
        return step_flops(model, step).as_dict()
    finally:
        if fuse:
            model.fuse_frozen_bn = fuse


def gemm_step(dtype, size: int):
    """One ``size`` x ``size`` matmul in ``dtype``: the CPU's ceiling."""
    import torch
    a = torch.randn(size, size).to(dtype)
    b = torch.randn(size, size).to(dtype)
    return lambda: a @ b


def paired_ratio(a: dict, b: dict) -> float:
    """Median over rounds of ``a``'s time / ``b``'s in the same round."""
    return statistics.median(x / y for x, y in zip(a['times_s'], b['times_s']))


def run_timing(args) -> dict:
    """Every step in one process, each round in a new random order.

    Returns:
        dict: ``{step: {median_s, times_s, flops, gflops_per_s, ...}}`` with
        steps ``STAGES``, ``LEVER/ce``, ``LEVER/phase2``, ``gemm_DTYPE``,
        and ``cpu``.
    """
    import torch

    from mmseg_seggan.utils.cpu_features import describe_cpu
    steps, models, device = {}, {}, None
    for stage in STAGES:
        model, optim, batch, device, _ = build(args, stage)
        steps[stage] = make_step(stage, model, optim, batch)
        models[stage] = model
    for name, lever in levers(args).items():
        for stage in ('ce', 'phase2'):
            model, optim, batch, _, _ = build(args, stage, lever)
            steps[f'{name}/{stage}'] = make_step(stage, model, optim, batch,
                                                 lever.get('threads'))
            models[f'{name}/{stage}'] = model
    gemm = {}
    if not device.startswith('cuda'):
        for dtype in ('float32', 'bfloat16'):
            # fp32: always 2048 (a second at most); bf16: smaller where slow
            size = gemm_gflops(
                getattr(torch, dtype),
                max_seconds=60.0 if dtype == 'float32' else 1.5)['size']
            gemm[dtype] = size
            steps[f'gemm_{dtype}'] = gemm_step(getattr(torch, dtype), size)
    sync = torch.cuda.synchronize if device.startswith('cuda') else (
        lambda: None)
    # One counted step per model first (an extra warm-up).
    flops = {s: count_step(models[s], steps[s]) for s in models}
    times = {s: [] for s in steps}
    clock = time.process_time if args.clock == 'cpu' else time.perf_counter
    order, rng = list(steps), random.Random(0)
    for r in range(args.warmup + args.iters):
        rng.shuffle(order)
        for name in order:
            t0 = clock()
            steps[name]()
            sync()
            if r >= args.warmup:
                times[name].append(clock() - t0)
    result = {
        s: dict(median_s=statistics.median(t), min_s=min(t), times_s=t)
        for s, t in times.items()
    }
    for s, count in flops.items():
        result[s].update(
            flops=count,
            gflops_per_s=count['total_gflop'] / result[s]['median_s'])
    for dtype, size in gemm.items():
        result[f'gemm_{dtype}'].update(
            size=size,
            gflops_per_s=2 * size**3 / result[f'gemm_{dtype}']['median_s'] /
            1e9)
    result['cpu'] = dict(describe_cpu(), onednn_bf16=onednn_bf16())
    return result


def run_stage(args) -> dict:
    """Peak memory (and a standalone timing) of one step in this process.
    """
    import torch
    lever = levers(args).get(args.lever) if args.lever else None
    model, optim, batch, device, size = build(args, args.stage, lever)
    cuda = device.startswith('cuda')
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    step = make_step(args.stage, model, optim, batch)
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    rss_before = _current_rss_mib()
    times = []
    for i in range(args.warmup + args.iters):
        t0 = time.perf_counter()
        step()
        sync()
        if i >= args.warmup:
            times.append(time.perf_counter() - t0)
    peak = (
        torch.cuda.max_memory_allocated() /
        2**20 if cuda else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss /
        1024)
    return dict(
        stage=args.stage,
        lever=args.lever or 'fp32',
        width=args.width,
        device=device,
        size=list(size),
        batch=len(batch['inputs']),
        median_s=statistics.median(times),
        peak_mib=peak,
        step_mib=peak - (0 if cuda else rss_before),
        memory='cuda_max_allocated' if cuda else 'peak_rss')


def _current_rss_mib() -> float:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024
    return 0.0


def spawn(args, stage, lever=None, width=None, iters=None) -> dict:
    """``run_stage`` (or ``run_timing``) in a fresh process of this script.
    """
    cmd = [
        sys.executable,
        os.path.abspath(__file__), args.config, '--stage', stage, '--iters',
        str(iters or args.iters), '--warmup',
        str(args.warmup), '--clock', args.clock
    ]
    for flag, val in (('--batch', args.batch), ('--device', args.device),
                      ('--width', width), ('--lever', lever)):
        if val is not None:
            cmd += [flag, str(val)]
    if args.crop:
        cmd += ['--crop', *map(str, args.crop)]
    if args.no_levers:
        cmd.append('--no-levers')
    for variant in args.variant:
        cmd += ['--variant', *variant]
    if args.cfg_options:
        cmd += ['--cfg-options'] + [
            f'{k}={json.dumps(v) if not isinstance(v, str) else v}'
            for k, v in args.cfg_options.items()
        ]
    out = subprocess.run(cmd, capture_output=True, text=True)
    for line in out.stdout.splitlines():
        if line.startswith('RESULT '):
            return json.loads(line[len('RESULT '):])
    raise RuntimeError(f'stage {stage} failed:\n{out.stderr[-3000:]}')


def summarize(args, timing: dict, memory: dict) -> dict:
    """The report: ratios within rounds, the levers, the memory."""
    ratios = dict(
        phase2_over_ce=paired_ratio(timing['phase2'], timing['ce']),
        phase1_over_ce=paired_ratio(timing['phase1'], timing['ce']),
        infer_seggan_over_plain=paired_ratio(timing['infer_seggan'],
                                             timing['infer_plain']))
    if 'gemm_float32' in timing:  # CE GFLOP/s over the GEMM's, per round
        ce_gflop = timing['ce']['flops']['total_gflop']
        gemm_gflop = 2 * timing['gemm_float32']['size']**3 / 1e9
        ratios['ce_rate_over_fp32_gemm'] = statistics.median(
            (ce_gflop / t) / (gemm_gflop / g) for t, g in zip(
                timing['ce']['times_s'], timing['gemm_float32']['times_s']))
    table = {}
    for name in levers(args):
        ce, p2 = timing[f'{name}/ce'], timing[f'{name}/phase2']
        table[name] = dict(
            ce_over_fp32=paired_ratio(ce, timing['ce']),
            phase2_over_fp32=paired_ratio(p2, timing['phase2']),
            phase2_over_ce=paired_ratio(p2, ce),
            ce_median_s=ce['median_s'],
            phase2_median_s=p2['median_s'])
    return dict(
        results={s: timing[s]
                 for s in timing if s != 'cpu'},
        ratios=ratios,
        levers=table,
        memory=memory,
        cpu=timing['cpu'],
        gemm={
            k[len('gemm_'):]: timing[k]
            for k in timing if k.startswith('gemm_')
        })


def print_report(args, report: dict) -> None:
    cpu, r = report['cpu'], report['results']
    options = ' '.join(f'{k}={v}' for k, v in args.cfg_options.items())
    print(f'\nSegGAN benchmark: {args.config}'
          f'{"  --cfg-options " + options if options else ""}\n'
          f'device={args.device or "auto"}  threads={cpu["threads"]}  '
          f'batch={args.batch or "(config)"}  crop='
          f'{"x".join(map(str, args.crop)) if args.crop else "(config)"}  '
          f'iters={args.iters} (after {args.warmup} warm-up), every step '
          f'once per round in random order, one process ({args.clock} clock)'
          f'\nCPU: {cpu["name"]}, torch capability {cpu["capability"]}, '
          f'native bf16: {"yes" if cpu["native_bf16"] else "no"} (flags: '
          f'{", ".join(cpu["bf16_flags"]) or "none of avx512_bf16/amx_bf16"}'
          f'), oneDNN bf16 kernels: {"yes" if cpu["onednn_bf16"] else "no"}')
    for dtype, g in report['gemm'].items():
        print(f'GEMM {dtype} {g["size"]}x{g["size"]}, same rounds: '
              f'{g["gflops_per_s"]:.1f} GFLOP/s')
    peak = report['gemm'].get('float32', {}).get('gflops_per_s')
    print(f'\n{"step (fp32, the config)":<28}{"median s/it":>12}'
          f'{"GFLOP":>8}{"GFLOP/s":>9}{"of fp32 GEMM":>14}')
    names = dict(
        ce='CE-only step (control)',
        phase2='SegGAN phase-2 step',
        phase1='phase-1 step (G + D)',
        infer_seggan='inference SegGAN',
        infer_plain='inference plain DeepLabV3')
    for s in STAGES:
        frac = f'{r[s]["gflops_per_s"] / peak:.0%}' if peak else '-'
        print(f'{names[s]:<28}{r[s]["median_s"]:>12.4f}'
              f'{r[s]["flops"]["total_gflop"]:>8.3g}'
              f'{r[s]["gflops_per_s"]:>9.1f}{frac:>14}')
    print('(GFLOP: 2 x multiply-adds of convolutions and matmuls, forward '
          'plus the backward autograd runs.)')
    print('\nratios (median over rounds of the ratio within a round): ' +
          '  '.join(f'{k}={v:.3f}' for k, v in report['ratios'].items()))
    if report['levers']:
        print(f'\n{"lever":<24}{"CE s/it":>9}{"CE / fp32":>11}'
              f'{"phase-2 s/it":>14}{"phase-2 / fp32":>16}'
              f'{"phase-2 / CE":>14}')
        print(f'{"fp32 (the config)":<24}{r["ce"]["median_s"]:>9.3f}'
              f'{1:>11.3f}{r["phase2"]["median_s"]:>14.3f}{1:>16.3f}'
              f'{report["ratios"]["phase2_over_ce"]:>14.3f}')
        for name, row in report['levers'].items():
            print(f'{name:<24}{row["ce_median_s"]:>9.3f}'
                  f'{row["ce_over_fp32"]:>11.3f}'
                  f'{row["phase2_median_s"]:>14.3f}'
                  f'{row["phase2_over_fp32"]:>16.3f}'
                  f'{row["phase2_over_ce"]:>14.3f}')
    for key, m in report['memory'].items():
        print(f'memory {key:<20} peak {m["peak_mib"]:8.1f} MiB, added by '
              f'the steps {m["step_mib"]:8.1f} MiB ({m["memory"]}, own '
              'process)')


def main():
    args = parse_args()
    if args.stage == 'timing':
        print('RESULT ' + json.dumps(run_timing(args)))
        return
    if args.stage:
        print('RESULT ' + json.dumps(run_stage(args)))
        return
    timing = spawn(args, 'timing')
    memory = {}
    if not args.skip_memory:
        for stage, lever in MEMORY:
            if lever == 'fp32' or lever in levers(args):
                memory[f'{stage}/{lever}'] = spawn(
                    args, stage, None if lever == 'fp32' else lever, iters=2)
    report = summarize(args, timing, memory)
    print_report(args, report)
    for w in args.gen_widths or []:
        m = spawn(args, 'phase2', width=w)
        report.setdefault('widths', {})[w] = m
        print(f'G/D width {w:>4}: phase-2 {m["median_s"]:.4f} s/it, '
              f'ratio to CE {m["median_s"] / timing["ce"]["median_s"]:.3f}, '
              f'peak {m["peak_mib"]:.1f} MiB')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(report, f, indent=2)


if __name__ == '__main__':
    main()
