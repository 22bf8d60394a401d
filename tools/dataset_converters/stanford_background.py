"""Convert Stanford Background (iccv09Data) once for fast training.

Writes ``OUT_DIR/images/<id>.jpg`` (copies), ``OUT_DIR/labels/<id>.png``
(uint8, 0..7, 255 = unknown), ``OUT_DIR/splits/{train,test}.txt`` (the
paper's random 600 / 115 split; the seed in a ``# seed=S`` header) and
``OUT_DIR/README.txt``. ``RAW_DIR`` is only read; its labels may be
``<id>.regions.txt`` or gzipped ``<id>.regions.txt.gz``.

Example:
    python tools/dataset_converters/stanford_background.py \
        /path/to/iccv09Data data/stanford_bg --seed 0
"""
import argparse
import time
import warnings

warnings.filterwarnings('ignore', message='pkg_resources is deprecated')

import mmseg_seggan  # noqa: E402,F401  (mmcv-lite compat first)
from mmseg_seggan.datasets.stanford_background import (  # noqa: E402
    NUM_TRAIN, convert_stanford_background)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert Stanford Background to PNG masks and write the '
        'seeded 600/115 split.')
    parser.add_argument('raw_dir', help='folder with images/ and labels/')
    parser.add_argument('out_dir', help='output folder, e.g. data/stanford_bg')
    parser.add_argument(
        '--seed',
        type=int,
        default=0,
        help='seed of the random split (default 0)')
    parser.add_argument(
        '--num-train',
        type=int,
        default=NUM_TRAIN,
        help=f'training images (default {NUM_TRAIN}); the '
        'rest is the test split')
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    start = time.time()
    info = convert_stanford_background(
        args.raw_dir, args.out_dir, seed=args.seed, num_train=args.num_train)
    print(f'Converted {info["num_images"]} images to {info["out_dir"]} in '
          f'{time.time() - start:.1f} s: splits/train.txt '
          f'({info["num_train"]}), splits/test.txt ({info["num_test"]}), '
          f'seed={info["seed"]}, {info["ignored_pixels"]} unknown pixels '
          '-> 255.')
    return info


if __name__ == '__main__':
    main()
