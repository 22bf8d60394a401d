"""Is a training stage bit-reproducible? Run it twice and compare.

Trains ``CONFIG`` for ``--iters`` iterations twice with the same seed and
thread count (and once more with ``--other-threads`` if given) through the
real ``tools/train.py``, then compares the final checkpoints tensor by
tensor. Prints, per comparison, whether every tensor is bit-identical and
the largest absolute difference, so the protocol can say which of its
stages a rerun on the same machine reproduces exactly.

Example (the phase-2 stage of the ImageNet protocol)::

    python tools/experiments/check_reproducibility.py \\
        configs/seggan/seggan-finetune_deeplabv3_lite0-d16_1xb8-300it_camvid-180x240.py \\
        --iters 10 --other-threads 2 \\
        --cfg-options load_from=work_dirs/protocol/camvid-lite0/gan_pretrain_gan0/iter_2000.pth
"""  # noqa: E501
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import tempfile
from typing import Dict, List, Optional

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--iters', type=int, default=10)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument(
        '--other-threads',
        type=int,
        help='also run with this many threads and compare')
    parser.add_argument('--work-dir', help='default: a temporary folder')
    parser.add_argument('--cfg-options', nargs='+', default=[])
    parser.add_argument('--json', help='write the result here too')
    return parser.parse_args(argv)


def _phase_hook_options(args: argparse.Namespace) -> List[str]:
    """Shorten phase 1 of a SegGAN config to the ``--iters`` run.

    A phase-1 config (``gan_iters`` = its ``max_iters``) cut to a few
    iterations would otherwise be refused by ``SegGANPhaseHook`` (phase 1
    longer than the run); the short run stays all phase 1.
    """
    from mmengine.config import Config

    from mmseg_seggan.utils import gan_iters_key, gan_iters_of
    cfg = Config.fromfile(osp.join(REPO, args.config))
    gan_iters = gan_iters_of(cfg)
    if gan_iters is None or gan_iters <= args.iters:
        return []
    options = [f'{gan_iters_key(cfg)}={args.iters}']
    hooks = cfg.get('custom_hooks', [])
    at = [
        i for i, h in enumerate(hooks) if h.get('type') == 'SegGANPhaseHook'
        and not h.get('gan_pretrain_only')
    ]
    if at:  # a phase-1-only run must say so, or the hook refuses it
        options.append(f'custom_hooks.{at[0]}.gan_pretrain_only=True')
    return options


def train(args: argparse.Namespace, work: str, threads: int) -> str:
    """One short run; returns its final checkpoint."""
    cmd = [
        sys.executable, 'tools/train.py', args.config, '--work-dir', work,
        '--cfg-options', f'train_cfg.max_iters={args.iters}',
        f'train_cfg.val_interval={args.iters + 1}',
        f'randomness.seed={args.seed}', *args.cfg_options
    ]
    env = dict(
        os.environ,
        OMP_NUM_THREADS=str(threads),
        MKL_NUM_THREADS=str(threads),
        PYTHONWARNINGS='ignore')
    proc = subprocess.run(
        cmd, cwd=REPO, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f'{" ".join(cmd)} failed:\n{proc.stderr[-3000:]}')
    return osp.join(work, f'iter_{args.iters}.pth')


def compare(a: str, b: str) -> Dict[str, object]:
    """Bit-identity and the largest difference of two checkpoints."""
    import torch

    from mmseg_seggan.utils.checkpoint import load_checkpoint_file
    sa = load_checkpoint_file(a, map_location='cpu')['state_dict']
    sb = load_checkpoint_file(b, map_location='cpu')['state_dict']
    if sa.keys() != sb.keys():
        return dict(identical=False, reason='different keys')
    worst, worst_key, differing = 0., None, 0
    for k, v in sa.items():
        if not torch.equal(v, sb[k]):
            differing += 1
            d = (v.double() - sb[k].double()).abs().max().item()
            if d >= worst:
                worst, worst_key = d, k
    return dict(
        identical=differing == 0,
        tensors=len(sa),
        differing_tensors=differing,
        max_abs_diff=worst,
        worst_tensor=worst_key)


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    args.cfg_options = _phase_hook_options(args) + args.cfg_options
    root = args.work_dir or tempfile.mkdtemp(prefix='repro_')
    runs = {'a': args.threads, 'b': args.threads}
    if args.other_threads:
        runs['c'] = args.other_threads
    ckpts = {
        name: train(args, osp.join(root, name), threads)
        for name, threads in runs.items()
    }
    result = dict(
        config=args.config,
        iters=args.iters,
        seed=args.seed,
        same_threads=compare(ckpts['a'], ckpts['b']))
    print(f'{args.config}, {args.iters} iterations, seed {args.seed}')
    r = result['same_threads']
    print(f'  rerun, {args.threads} thread(s): '
          f'{"bit-identical" if r["identical"] else "DIFFERENT"} '
          f'({r.get("differing_tensors")} of {r.get("tensors")} tensors '
          f'differ, max |diff| {r.get("max_abs_diff", 0):.3g})')
    if 'c' in ckpts:
        r = result['other_threads'] = compare(ckpts['a'], ckpts['c'])
        print(f'  {args.threads} vs {args.other_threads} threads: '
              f'{"bit-identical" if r["identical"] else "DIFFERENT"} '
              f'({r.get("differing_tensors")} of {r.get("tensors")} tensors '
              f'differ, max |diff| {r.get("max_abs_diff", 0):.3g})')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=1)
    return result


if __name__ == '__main__':
    main()
