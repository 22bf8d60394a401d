"""Benchmark SegGAN's cost against plain cross-entropy training.

On one model, batch and crop, it measures:
  * CE-only step (phase 2 with the GAN terms weighted 0: the control),
  * SegGAN phase-2 step (CE + content + adversarial through frozen G and D),
  * phase-1 step (G and D updates),
  * inference of the SegGAN model vs the plain EncoderDecoder,
and the peak memory of each (CUDA: max allocated; CPU: peak RSS of a fresh
process per stage). It prints a table and the ratios that matter.

Each step's GFLOP/s comes from an analytic FLOP count (forward, and the
backward autograd really runs: ``mmseg_seggan.utils.flop_count``; torch's
flop counter overcounts depthwise backward a thousandfold), next to the CPU's
own ceiling timed in the same rounds: one 2048x2048 fp32 matmul and one bf16
matmul (smaller where bf16 is emulated), with the CPU's torch capability and
whether it has native bf16. ``--skip-memory`` runs only the timing process.

Examples:
    python tools/analysis_tools/benchmark_seggan.py configs/seggan_toy.py
    python tools/analysis_tools/benchmark_seggan.py configs/seggan_voc.py \
        --crop 256 256 --batch 2 --iters 5
    python tools/analysis_tools/benchmark_seggan.py CONFIG \
        --gen-widths 16 32 64
    # speed levers against the config, timed in the same rounds:
    python tools/analysis_tools/benchmark_seggan.py CONFIG \
        --variant no-frozen model.backbone.frozen_stages=-1 \
        --variant unfolded model.fuse_frozen_bn=False \
        --variant cl channels_last=1 --variant bf16 amp=1 \
        --variant nchw model.generator.channels_last=False \
            model.discriminator.channels_last=False
"""
import argparse
import copy
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import warnings

from mmengine.config import DictAction

warnings.filterwarnings('ignore')

STAGES = ('ce', 'phase2', 'phase1', 'infer_seggan', 'infer_plain')
GAN_KEYS = ('generator', 'discriminator', 'gan_content_weight',
            'gan_adv_weight', 'content_weight', 'adv_weight', 'phase',
            'gan_iters', 'nonfinite', 'fuse_frozen_bn', 'pseudo_label_weight',
            'pseudo_label_threshold')


def parse_args():
    parser = argparse.ArgumentParser(description='Benchmark SegGAN steps')
    parser.add_argument('config', help='a SegGAN config')
    parser.add_argument(
        '--batch',
        type=int,
        default=None,
        help='batch size (default: the config\'s)')
    parser.add_argument(
        '--crop',
        type=int,
        nargs=2,
        default=None,
        metavar=('H', 'W'),
        help='input size (default: data_preprocessor.size)')
    parser.add_argument('--iters', type=int, default=10)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument(
        '--device',
        default=None,
        help='cpu or cuda (default: cuda if available)')
    parser.add_argument(
        '--gen-widths',
        type=int,
        nargs='+',
        default=None,
        help='also time phase 2 for these G/D base widths')
    parser.add_argument('--json', help='write the results here as well')
    parser.add_argument(
        '--clock',
        choices=['wall', 'cpu'],
        default='wall',
        help='time steps by the wall clock, or by the process\'s CPU time '
        '(1 thread on a CPU shared with other jobs: what a step costs '
        'without their share of the core; the round-robin timing only)')
    parser.add_argument(
        '--skip-memory',
        action='store_true',
        help='only the round-robin timing (no process per stage for the '
        'peak memory): half the time')
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
        'the same round-robin as the rest (repeatable): levers compared '
        'under the same load; threads=N sets the intra-op threads, amp=1 '
        'trains as tools/train.py --amp, channels_last=1 as '
        'ChannelsLastHook')
    parser.add_argument(
        '--stage', choices=STAGES + ('timing', ), help=argparse.SUPPRESS)
    parser.add_argument('--width', type=int, help=argparse.SUPPRESS)
    return parser.parse_args()


def build(args, stage=None):
    import mmseg_seggan  # noqa: F401
    import torch
    from mmengine.config import Config
    stage = stage or args.stage
    from mmseg.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS

    from mmengine.registry import init_default_scope
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    if getattr(args, 'amp', False):  # as tools/train.py --amp
        from mmseg_seggan.utils.launch import enable_amp
        enable_amp(cfg)
    # configs without an mmseg:: model base carry no _scope_ of their own
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model_cfg = copy.deepcopy(cfg.model)
    if args.width:
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
        plain = {k: v for k, v in model_cfg.items() if k not in GAN_KEYS}
        plain['type'] = 'EncoderDecoder'
        model = MODELS.build(plain)
    else:
        if stage == 'ce':
            model_cfg.update(content_weight=0.0, adv_weight=0.0)
        model_cfg['phase'] = 1 if stage == 'phase1' else 2
        model = MODELS.build(model_cfg)
    model.init_weights()
    model.to(device)
    if getattr(args, 'channels_last', False):  # as ChannelsLastHook
        from mmseg_seggan.engine.hooks import segmentor_to_channels_last
        segmentor_to_channels_last(model)
    optim = None
    if stage in ('ce', 'phase2', 'phase1'):
        ow = dict(cfg.optim_wrapper)
        optim = OPTIM_WRAPPER_CONSTRUCTORS.build(
            dict(type=ow.pop('constructor'), optim_wrapper_cfg=ow))(
                model)
    return model, optim, make_batch(batch, size, num_classes), device, size


def make_batch(n, size, num_classes):
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


def make_step(stage, model, optim, batch):
    import torch
    if stage.startswith('infer'):
        model.eval()

        def step():
            with torch.no_grad():
                model.test_step(batch)
    else:
        model.train()

        def step():
            model.train_step(batch, optim)

    return step


def run_timing(args):
    """All stages in one process, timed round-robin.

    Interleaving makes the ratios robust to other load on the machine: each
    round times every stage once, so a slow spell hits all of them. The
    CPU's own ceiling is one of the stages: a fp32 and a bf16 matmul, timed
    in the same rounds under the same load. An extra round before the
    warm-up counts each step's FLOPs (``mmseg_seggan.utils.flop_count``).
    """
    import torch

    from mmseg_seggan.utils.cpu_features import describe_cpu, gemm_gflops
    steps, models, device = {}, {}, None
    for stage in STAGES:
        model, optim, batch, device, _ = build(args, stage)
        steps[stage] = make_step(stage, model, optim, batch)
        models[stage] = model
    for name, options in variant_options(args).items():
        v_args = copy.copy(args)
        threads = options.pop('threads', None)  # intra-op threads, not cfg
        # tools/train.py --amp, and ChannelsLastHook: not cfg keys either
        v_args.amp = bool(options.pop('amp', False))
        v_args.channels_last = bool(options.pop('channels_last', False))
        v_args.cfg_options = dict(args.cfg_options, **options)
        for stage in ('ce', 'phase2'):
            model, optim, batch, _, _ = build(v_args, stage)
            step = make_step(stage, model, optim, batch)
            if threads:
                step = with_threads(step, int(threads))
            steps[f'{name}/{stage}'] = step
            models[f'{name}/{stage}'] = model
    gemm = {}
    if not device.startswith('cuda'):
        threads = torch.get_num_threads()
        for dtype in ('float32', 'bfloat16'):
            # fp32: always 2048 (a second at most); bf16: smaller where slow
            limit = 60.0 if dtype == 'float32' else 1.5
            size = gemm_gflops(
                getattr(torch, dtype), threads=threads,
                max_seconds=limit)['size']
            gemm[dtype] = size
            steps[f'gemm_{dtype}'] = gemm_step(getattr(torch, dtype), size)
    sync = torch.cuda.synchronize if device.startswith('cuda') else (
        lambda: None)
    # One counted step per stage first (an extra warm-up).
    flops = {s: count_step(models[s], steps[s]) for s in models}
    times = {s: [] for s in steps}
    clock = time.process_time if args.clock == 'cpu' else time.perf_counter
    for r in range(args.warmup + args.iters):
        for stage, step in steps.items():
            t0 = clock()
            step()
            sync()
            if r >= args.warmup:
                times[stage].append(clock() - t0)
    result = {
        s:
        dict(
            median_s=statistics.median(t),
            mean_s=statistics.mean(t),
            min_s=min(t),
            times_s=t)
        for s, t in times.items()
    }
    for stage, count in flops.items():
        result[stage]['flops'] = count
        result[stage][
            'gflops_per_s'] = count['total_gflop'] / result[stage]['median_s']
    for dtype, size in gemm.items():
        result[f'gemm_{dtype}'].update(
            size=size,
            gflops_per_s=2 * size**3 / result[f'gemm_{dtype}']['median_s'] /
            1e9)
    result['cpu'] = describe_cpu()
    print('RESULT ' + json.dumps(result))


def paired_ratio(a: dict, b: dict) -> float:
    """Median over rounds of ``a``'s time / ``b``'s in the same round.

    Under other load a slow spell hits one round: the ratio within a round
    is steadier than the ratio of the medians.
    """
    return statistics.median(x / y for x, y in zip(a['times_s'], b['times_s']))


def count_step(model, step) -> dict:
    """FLOPs of one ``step``, counted on the model's own G and D.

    The folded copies of a frozen G and D (``fuse_frozen_bn``) are no
    submodules the counter sees; folding removes only BN, no counted FLOP.
    """
    from mmseg_seggan.utils.flop_count import step_flops
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

    def step():
        a @ b

    return step


def with_threads(step, threads: int):
    """``step`` run with ``threads`` intra-op threads."""
    import torch

    def run():
        before = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            step()
        finally:
            torch.set_num_threads(before)

    return run


def variant_options(args) -> dict:
    """``{name: {key: value}}`` of the ``--variant`` arguments."""
    out = {}
    for name, *pairs in args.variant:
        options = {}
        for pair in pairs:
            key, _, value = pair.partition('=')
            options[key] = DictAction._parse_iterable(value)
        out[name] = options
    return out


def run_stage(args):
    """Peak memory (and a standalone timing) of one stage; a JSON line."""
    import torch
    model, optim, batch, device, size = build(args)
    cuda = device.startswith('cuda')

    def sync():
        if cuda:
            torch.cuda.synchronize()

    step = make_step(args.stage, model, optim, batch)

    if cuda:
        torch.cuda.reset_peak_memory_stats()
    rss_before = _current_rss_mib()
    for _ in range(args.warmup):
        step()
    sync()
    times = []
    for _ in range(args.iters):
        t0 = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - t0)
    peak = (
        torch.cuda.max_memory_allocated() /
        2**20 if cuda else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss /
        1024)
    print('RESULT ' + json.dumps(
        dict(
            stage=args.stage,
            width=args.width,
            device=device,
            threads=torch.get_num_threads(),
            size=list(size),
            batch=len(batch['inputs']),
            median_s=statistics.median(times),
            mean_s=statistics.mean(times),
            peak_mib=peak,
            step_mib=peak - (0 if cuda else rss_before),
            memory='cuda_max_allocated' if cuda else 'peak_rss')))


def _current_rss_mib() -> float:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024
    return 0.0


def spawn(args, stage, width=None):
    cmd = [
        sys.executable,
        os.path.abspath(__file__), args.config, '--stage', stage, '--iters',
        str(args.iters), '--warmup',
        str(args.warmup)
    ]
    for flag, val in (('--batch', args.batch), ('--device', args.device),
                      ('--width', width)):
        if val is not None:
            cmd += [flag, str(val)]
    if args.crop:
        cmd += ['--crop', *map(str, args.crop)]
    if stage == 'timing':
        cmd += ['--clock', args.clock]
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


def main():
    args = parse_args()
    if args.stage == 'timing':
        run_timing(args)
        return
    if args.stage:
        run_stage(args)
        return
    timing = spawn(args, 'timing')
    if args.skip_memory:
        results = {s: dict(timing[s]) for s in STAGES}
    else:
        results = {s: spawn(args, s) for s in STAGES}
        for s in STAGES:  # the interleaved timings are the ones reported
            results[s]['standalone_median_s'] = results[s]['median_s']
            results[s].update(timing[s])
    cpu, gemm = timing['cpu'], {
        k[len('gemm_'):]: v
        for k, v in timing.items() if k.startswith('gemm_')
    }
    options = ' '.join(f'{k}={v}' for k, v in args.cfg_options.items())
    batch = args.batch or '(config)'
    crop = 'x'.join(map(str, args.crop)) if args.crop else '(config)'
    memory_note = '' if args.skip_memory else \
        '; memory from one process per stage'
    print(f'\nSegGAN benchmark: {args.config}'
          f'{"  --cfg-options " + options if options else ""}\n'
          f'device={args.device or "auto"}  threads={cpu["threads"]}  '
          f'batch={batch}  crop={crop}  iters={args.iters} (after '
          f'{args.warmup} warm-up), stages timed round-robin in one process'
          f' ({args.clock} clock)'
          f'{memory_note}'
          f'\nCPU: {cpu["name"]}, torch capability {cpu["capability"]}, '
          f'native bf16: {"yes" if cpu["native_bf16"] else "no"} (flags: '
          f'{", ".join(cpu["bf16_flags"]) or "none of avx512_bf16/amx_bf16"}'
          f'), oneDNN bf16 kernels: {"yes" if cpu["onednn_bf16"] else "no"}')
    for dtype, g in gemm.items():
        print(f'GEMM {dtype} {g["size"]}x{g["size"]}, same rounds: '
              f'{g["gflops_per_s"]:.1f} GFLOP/s')
    peak = gemm.get('float32', {}).get('gflops_per_s')
    print()
    mem = 'peak MiB' if args.skip_memory else \
        'peak MiB (' + results['ce']['memory'] + ')'
    print(f'{"stage":<28}{"median s/it":>12}{"GFLOP":>8}{"GFLOP/s":>9}'
          f'{"of fp32 GEMM":>14}{mem:>30}')
    names = dict(
        ce='CE-only step (control)',
        phase2='SegGAN phase-2 step',
        phase1='phase-1 step (G + D)',
        infer_seggan='inference SegGAN',
        infer_plain='inference plain DeepLabV3')
    for s in STAGES:
        r = results[s]
        frac = f'{r["gflops_per_s"] / peak:.0%}' if peak else '-'
        memory = '-' if args.skip_memory else f'{r["peak_mib"]:.1f}'
        print(f'{names[s]:<28}{r["median_s"]:>12.4f}'
              f'{r["flops"]["total_gflop"]:>8.3g}{r["gflops_per_s"]:>9.1f}'
              f'{frac:>14}{memory:>30}')
    print('(GFLOP: 2 x multiply-adds of convolutions and matmuls, forward '
          'plus the backward autograd runs: input gradients only above the '
          'first trainable layer, weight gradients only of trainable '
          'layers.)')
    ratio = dict(
        phase2_over_ce=paired_ratio(timing['phase2'], timing['ce']),
        phase1_over_ce=paired_ratio(timing['phase1'], timing['ce']),
        infer_seggan_over_plain=paired_ratio(timing['infer_seggan'],
                                             timing['infer_plain']))
    if gemm:  # the CE step's GFLOP/s over the GEMM's, round by round
        ce_gflop = timing['ce']['flops']['total_gflop']
        gemm_gflop = 2 * gemm['float32']['size']**3 / 1e9
        ratio['ce_rate_over_fp32_gemm'] = statistics.median(
            (ce_gflop / t) / (gemm_gflop / g) for t, g in zip(
                timing['ce']['times_s'], timing['gemm_float32']['times_s']))
    if not args.skip_memory:
        ratio.update(
            phase2_mem_over_ce=results['phase2']['peak_mib'] /
            results['ce']['peak_mib'],
            phase2_step_mem_over_ce=results['phase2']['step_mib'] /
            max(results['ce']['step_mib'], 1e-6))
    print('\nratios (median over rounds of the ratio within a round): ' +
          '  '.join(f'{k}={v:.3f}' for k, v in ratio.items()))
    widths = {}
    for w in args.gen_widths or []:
        r = spawn(args, 'phase2', width=w)
        widths[w] = r
        print(f'G/D width {w:>4}: phase-2 {r["median_s"]:.4f} s/it, '
              f'ratio to CE {r["median_s"] / results["ce"]["median_s"]:.3f}, '
              f'peak {r["peak_mib"]:.1f} MiB')
    variants = {}
    for (name, *overrides) in args.variant:
        ce, p2 = timing[f'{name}/ce'], timing[f'{name}/phase2']
        variants[name] = dict(ce=ce, phase2=p2, overrides=overrides)
        variants[name].update(
            ce_over_config=paired_ratio(ce, timing['ce']),
            phase2_over_config=paired_ratio(p2, timing['phase2']),
            phase2_over_ce=paired_ratio(p2, ce))
        print(f'variant {name}: {" ".join(overrides)}'
              f'\n    CE {ce["median_s"]:.4f} s/it '
              f'({variants[name]["ce_over_config"]:.3f} x the config\'s, '
              f'{ce["gflops_per_s"]:.1f} GFLOP/s), phase-2 '
              f'{p2["median_s"]:.4f} s/it '
              f'({variants[name]["phase2_over_config"]:.3f} x), '
              f'phase-2 / CE {variants[name]["phase2_over_ce"]:.3f}')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(
                dict(
                    results=results,
                    ratios=ratio,
                    widths=widths,
                    variants=variants,
                    cpu=cpu,
                    gemm=gemm),
                f,
                indent=2)


if __name__ == '__main__':
    main()
