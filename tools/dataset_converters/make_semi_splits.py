"""Write seeded labeled / unlabeled splits of a training set.

Semi-supervised SegGAN trains with labels on a fraction of the training
images and without them on the rest. This writes, for each fraction 1/K,
``labeled_1-K.txt`` and ``unlabeled_1-K.txt`` (one id per line, the seed in
a ``# seed=S`` header) into OUT_DIR. The images are permuted once with the
seed and the labeled set of 1/K is the first n/K of that order, so the
smaller labeled sets are nested in the larger ones (1/8 inside 1/4) and
the fractions differ only in how many labels they add.

A split file is never replaced: if OUT_DIR already holds one with other
contents (another seed, another source), nothing is written and the file is
named; rerunning the same command leaves identical files as they are. Use a
new OUT_DIR per seed. The check and the writes happen under a lock on
OUT_DIR (``.make_semi_splits.lock``), so of two writers at once the second
stops with an error naming the first, instead of mixing the seeds' files.

Examples::

    # Stanford Background: ids of the converted 600-image train split
    python tools/dataset_converters/make_semi_splits.py \\
        --split data/stanford_bg/splits/train.txt \\
        --out-dir data/semi_splits/stanford_bg --fractions 8 4 --seed 0
    # CamVid (no split file): the images of the train folder
    python tools/dataset_converters/make_semi_splits.py \\
        --img-dir data/camvid/train --suffix .png \\
        --out-dir data/semi_splits/camvid --fractions 8 4 --seed 0

``--exclude ID ...`` keeps ids out of the unlabeled sets without moving
any labeled one (the permutation and each n/K are those of the whole
split): Stanford Background's train image 1000288 is its test image
9000288 re-encoded, so a semi-supervised run whose unlabeled set holds it
is refused by ``SemiSupervisedDataCheckHook``; ``--exclude 1000288`` mends
the seed-0 splits. An excluded id that a seed puts into a labeled set is
refused (choose another seed): labeled images are trained on either way.
"""
import argparse
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np

# Only the readers: no mmseg import needed to write a list.
from mmseg_seggan.datasets.validation import (list_files, read_split_file,
                                              strip_suffix)
from mmseg_seggan.utils.dir_lock import DirLock


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
        help='K >= 2 of each labeled fraction 1/K (default 8 4)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--exclude',
        nargs='+',
        default=[],
        metavar='ID',
        help='ids kept out of the unlabeled sets (e.g. copies of '
        'evaluation images)')
    args = parser.parse_args(argv)
    bad = [k for k in args.fractions if k < 2]
    if bad:
        parser.error(f'--fractions {" ".join(map(str, args.fractions))}: '
                     'each K names the labeled fraction 1/K and must be an '
                     f'integer >= 2 (got {", ".join(map(str, bad))}), e.g. '
                     '--fractions 8 4 for 1/8 and 1/4 labeled.')
    return args


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


def make_splits(
        ids: Sequence[str],
        fractions: Sequence[int],
        seed: int,
        exclude: Sequence[str] = ()) -> Dict[int, Dict[str, List[str]]]:
    """``{K: {'labeled': [...], 'unlabeled': [...]}}``, nested labeled sets.

    Args:
        exclude: Ids left out of every unlabeled set; the labeled sets are
            those without it.

    Raises:
        ValueError: A fraction would leave no labeled or no unlabeled id,
            an excluded id is not among the ids or lands in a labeled set.
    """
    unknown = sorted(set(exclude) - set(ids))
    if unknown:
        raise ValueError(f'--exclude {" ".join(unknown)}: not among the '
                         f'{len(ids)} ids to split; check the ids.')
    order = [ids[i] for i in np.random.default_rng(seed).permutation(len(ids))]
    splits = {}
    for k in fractions:
        n = int(round(len(ids) / k)) if k >= 2 else 0
        if not 0 < n < len(ids):
            raise ValueError(f'Fraction 1/{k} of {len(ids)} ids gives {n} '
                             'labeled images; choose K >= 2 with at least '
                             'one labeled and one unlabeled image.')
        labeled_out = sorted(set(order[:n]) & set(exclude))
        if labeled_out:
            raise ValueError(
                f'--exclude {" ".join(labeled_out)}: seed {seed} puts it into '
                f'the labeled set of 1/{k}, which --exclude never changes. '
                'Fix: choose another --seed.')
        splits[k] = dict(
            labeled=sorted(order[:n]),
            unlabeled=sorted(i for i in order[n:] if i not in exclude))
    return splits


def refuse_to_replace(files: Dict[str, str], split: Optional[str]) -> None:
    """Raise if writing ``files`` (path -> text) would change a file.

    Existing files with the same text are fine (the same command again).

    Raises:
        FileExistsError: Naming the files and the fix.
    """
    if split and any(osp.exists(p) and osp.samefile(p, split) for p in files):
        raise FileExistsError(
            f'--split {split} is one of the files this would write; it is '
            'never overwritten. Fix: choose another --out-dir.')
    changed = []
    for path, text in files.items():
        if osp.exists(path):
            with open(path) as f:
                if f.read() != text:
                    changed.append(path)
    if changed:
        raise FileExistsError(
            f'{", ".join(changed)} already exist(s) with other contents '
            '(another seed or source); split files are never replaced, so '
            'nothing was written. A second seed in the same folder would '
            'leave the fractions from different seeds, no longer nested. '
            'Fix: write into another --out-dir (e.g. one per seed: '
            '.../seed1), or delete the old files yourself first.')


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, int]:
    args = parse_args(argv)
    ids = training_ids(args)
    splits = make_splits(ids, args.fractions, args.seed, args.exclude)
    source = args.split or f'{args.img_dir}/*{args.suffix}'
    if args.exclude:
        source += f'; excluded from unlabeled: {" ".join(args.exclude)}'
    files = {}
    for k, parts in splits.items():
        for part, names in parts.items():
            files[osp.join(args.out_dir, f'{part}_1-{k}.txt')] = (
                f'# {part} images of a 1/{k} labeled split of {len(ids)} ids '
                f'({source})\n'
                f'# seed={args.seed} (numpy default_rng(seed).permutation '
                f'of the sorted ids; labeled = its first n/{k})\n'
                '# written by tools/dataset_converters/make_semi_splits.py\n' +
                ''.join(f'{n}\n' for n in names))
    written = {}
    with DirLock(
            args.out_dir,
            '.make_semi_splits.lock',
            what='split folder',
            hint='let that writer finish; one seed per --out-dir'):
        refuse_to_replace(files, args.split)  # checked and written as one
        for path, text in files.items():
            if not osp.exists(path):  # whole or absent: never half a file
                tmp = f'{path}.{os.getpid()}.tmp'
                with open(tmp, 'w') as f:
                    f.write(text)
                os.replace(tmp, path)
            written[path] = text.count('\n') - 3
            print(f'{path}: {written[path]} ids')
    return written


if __name__ == '__main__':
    main()
