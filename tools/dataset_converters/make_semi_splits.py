"""Write seeded labeled / unlabeled splits of a training set.

Semi-supervised SegGAN trains with labels on a fraction of the training
images and without them on the rest. This writes, for each fraction 1/K,
``labeled_1-K.txt`` and ``unlabeled_1-K.txt`` (one id per line, the seed in
a ``# seed=S`` header) into OUT_DIR. The images are permuted once with the
seed and the labeled set of 1/K is the first n/K of that order, so the
smaller labeled sets are nested in the larger ones (1/8 inside 1/4) and
the fractions differ only in how many labels they add.

Examples::

    # Stanford Background: ids of the converted 600-image train split
    python tools/dataset_converters/make_semi_splits.py \\
        --split data/stanford_bg/splits/train.txt \\
        --out-dir data/semi_splits/stanford_bg --fractions 8 4 --seed 0
    # CamVid (no split file): the images of the train folder
    python tools/dataset_converters/make_semi_splits.py \\
        --img-dir data/camvid/train --suffix .png \\
        --out-dir data/semi_splits/camvid --fractions 8 4 --seed 0
"""
import argparse
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np

# Only the readers: no mmseg import needed to write a list.
from mmseg_seggan.datasets.validation import (list_files, read_split_file,
                                              strip_suffix)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Seeded labeled/unlabeled splits for semi-supervised '
        'training.')
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument('--split', help='a split file of the training ids')
    src.add_argument('--img-dir', help='a folder of training images')
    parser.add_argument(
        '--suffix', default='.png', help='image suffix for --img-dir')
    parser.add_argument('--out-dir', required=True)
    parser.add_argument(
        '--fractions',
        type=int,
        nargs='+',
        default=[8, 4],
        help='K of each labeled fraction 1/K (default 8 4)')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


def training_ids(args: argparse.Namespace) -> List[str]:
    """The ids to split, in a stable (sorted) order."""
    if args.split:
        ids = read_split_file(args.split, 'make_semi_splits')
    else:
        if not osp.isdir(args.img_dir):
            raise FileNotFoundError(f'--img-dir {args.img_dir} is not a '
                                    'folder.')
        ids = [
            strip_suffix(f, args.suffix)
            for f in list_files(args.img_dir, args.suffix)
        ]
    if not ids:
        raise ValueError(f'No ids in {args.split or args.img_dir}.')
    return sorted(ids)


def make_splits(ids: Sequence[str], fractions: Sequence[int],
                seed: int) -> Dict[int, Dict[str, List[str]]]:
    """``{K: {'labeled': [...], 'unlabeled': [...]}}``, nested labeled sets.

    Raises:
        ValueError: A fraction would leave no labeled or no unlabeled id.
    """
    order = [ids[i] for i in np.random.default_rng(seed).permutation(len(ids))]
    splits = {}
    for k in fractions:
        n = int(round(len(ids) / k))
        if k < 2 or not 0 < n < len(ids):
            raise ValueError(f'Fraction 1/{k} of {len(ids)} ids gives {n} '
                             'labeled images; choose K >= 2 with at least '
                             'one labeled and one unlabeled image.')
        splits[k] = dict(
            labeled=sorted(order[:n]), unlabeled=sorted(order[n:]))
    return splits


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, int]:
    args = parse_args(argv)
    ids = training_ids(args)
    splits = make_splits(ids, args.fractions, args.seed)
    os.makedirs(args.out_dir, exist_ok=True)
    source = args.split or f'{args.img_dir}/*{args.suffix}'
    written = {}
    for k, parts in splits.items():
        for part, names in parts.items():
            path = osp.join(args.out_dir, f'{part}_1-{k}.txt')
            with open(path, 'w') as f:
                f.write(f'# {part} images of a 1/{k} labeled split of '
                        f'{len(ids)} ids ({source})\n'
                        f'# seed={args.seed} (numpy default_rng(seed).'
                        'permutation of the sorted ids; labeled = its first '
                        f'n/{k})\n'
                        '# written by tools/dataset_converters/'
                        'make_semi_splits.py\n')
                f.write(''.join(f'{n}\n' for n in names))
            written[path] = len(names)
            print(f'{path}: {len(names)} ids')
    return written


if __name__ == '__main__':
    main()
