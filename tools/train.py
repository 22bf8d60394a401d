"""Train a segmentor (plain mmseg or SegGAN), with mmseg's command line.

Examples:
    python tools/train.py configs/seggan_toy.py
    python tools/train.py CONFIG --work-dir work_dirs/x --resume
    bash tools/dist_train.sh CONFIG 2
"""
import argparse
import warnings

warnings.filterwarnings('ignore', message='pkg_resources is deprecated')

import mmseg_seggan  # noqa: E402,F401  (mmcv-lite compat + registration)
from mmengine.config import DictAction  # noqa: E402

from mmseg_seggan.engine.hooks import enable_amp  # noqa: E402
from seggan_launch import (  # noqa: E402  (tools/seggan_launch.py)
    build_runner, load_config, set_local_rank_env, shutdown_distributed)


def parse_args():
    parser = argparse.ArgumentParser(description='Train a segmentor')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        action='store_true',
        default=False,
        help='resume from the latest checkpoint in the work_dir automatically')
    parser.add_argument(
        '--amp',
        action='store_true',
        default=False,
        help='mixed precision: fp16 AMP on a CUDA GPU; on a CPU with native '
        'bf16 (avx512_bf16, AMX) the bf16 policy (BF16AutocastOptimWrapper '
        '+ BF16PolicyHook: channels-last, depthwise convs computed in fp32 '
        'with bf16 outputs); refused '
        'where bf16 is emulated unless --cfg-options allow_emulated_bf16=True')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override some settings in the used config, the key-value pair '
        'in xxx=yyy format will be merged into config file.')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    set_local_rank_env(args.local_rank)
    return args


def main():
    args = parse_args()
    cfg = load_config(args.config, args.cfg_options, args.work_dir,
                      args.launcher)
    if args.amp:
        enable_amp(cfg)
    cfg.resume = args.resume
    runner = build_runner(cfg)
    runner.train()
    shutdown_distributed()


if __name__ == '__main__':
    main()
