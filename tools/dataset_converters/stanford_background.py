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
import os
import os.path as osp
import shutil
import time
import warnings

import cv2

warnings.filterwarnings('ignore', message='pkg_resources is deprecated')

import mmseg_seggan  # noqa: E402,F401  (mmcv-lite compat first)
from mmseg_seggan.datasets.regions import read_regions_txt  # noqa: E402
from mmseg_seggan.datasets.stanford_background import (  # noqa: E402
    NUM_TRAIN, STANFORD_CLASSES, STANFORD_LAYOUT, label_files, stanford_split)
from mmseg_seggan.datasets.transforms.check_seg_sample import (  # noqa: E402
    check_file_complete, check_mask_shape)
from mmseg_seggan.datasets.validation import (  # noqa: E402
    CorruptImageError, check_folder, check_image_header, check_pairs)


def convert_stanford_background(raw_dir: str,
                                out_dir: str,
                                seed: int = 0,
                                num_train: int = NUM_TRAIN) -> dict:
    """Convert the raw download once: PNG masks, copied images, split files.

    Writes ``out_dir/images/<id>.jpg`` (byte-for-byte copies),
    ``out_dir/labels/<id>.png`` (uint8, 0..7, 255 = unknown),
    ``out_dir/splits/{train,test}.txt`` (ids, with a ``# seed=S`` header)
    and ``out_dir/README.txt``. Every label is checked (integers, size of
    its image, values) and every image decoded before anything is written.
    ``raw_dir`` is only read.

    Args:
        raw_dir: Holds ``images/*.jpg`` and ``labels/*.regions.txt[.gz]``.
        out_dir: Output folder (created); must not be ``raw_dir`` or inside
            it.
        seed: Seed of the random split.
        num_train: Training images (600 in the paper; the rest is test).

    Returns:
        dict: ``num_images``, ``num_train``, ``num_test``, ``seed``,
        ``ignored_pixels`` (count of -1), ``out_dir``.
    """
    name = 'Stanford Background converter'
    raw_real, out_real = osp.realpath(raw_dir), osp.realpath(out_dir)
    if out_real == raw_real or out_real.startswith(raw_real + os.sep):
        raise ValueError(
            f'OUT_DIR {out_dir} is RAW_DIR {raw_dir} or inside it; the '
            'converter never writes into the raw data. Fix: choose another '
            'OUT_DIR, e.g. data/stanford_bg.')
    check_folder(raw_dir, name, 'data root', STANFORD_LAYOUT)
    img_dir, label_dir = osp.join(raw_dir,
                                  'images'), osp.join(raw_dir, 'labels')
    check_folder(img_dir, name, 'image folder', STANFORD_LAYOUT)
    check_folder(label_dir, name, 'label folder', STANFORD_LAYOUT)
    ids = sorted(f[:-4] for f in os.listdir(img_dir) if f.endswith('.jpg'))
    regions = label_files(label_dir)['regions']
    samples = [
        dict(
            img_path=osp.join(img_dir, i + '.jpg'),
            seg_map_path=osp.join(label_dir,
                                  regions.get(i, i + '.regions.txt')))
        for i in ids
    ]
    known = set(ids)
    check_pairs(
        samples, name, f'{img_dir} (*.jpg)',
        [osp.join(label_dir, f) for i, f in regions.items() if i not in known])
    train, test = stanford_split(ids, seed, num_train)

    masks = {}
    ignored = 0
    for i, sample in zip(ids, samples):
        check_file_complete(sample['img_path'])
        check_image_header(sample['img_path'], sample['img_path'])
        img = cv2.imread(sample['img_path'], cv2.IMREAD_COLOR)
        if img is None:
            raise CorruptImageError(
                f'{sample["img_path"]} cannot be decoded as an image. Fix: '
                're-copy it from the original download.')
        mask = read_regions_txt(sample['seg_map_path'])
        check_mask_shape(mask.shape, img.shape, sample['seg_map_path'],
                         sample['img_path'])
        ignored += int((mask == 255).sum())
        masks[i] = mask

    for sub in ('images', 'labels', 'splits'):
        os.makedirs(osp.join(out_dir, sub), exist_ok=True)
    for i, sample in zip(ids, samples):
        shutil.copyfile(sample['img_path'],
                        osp.join(out_dir, 'images', i + '.jpg'))
        out_png = osp.join(out_dir, 'labels', i + '.png')
        if not cv2.imwrite(out_png, masks[i]):
            raise OSError(f'Could not write {out_png}.')
    header = (f'# Stanford Background split, SegGAN protocol: {len(train)} '
              f'train / {len(test)} test, random.\n'
              f'# seed={seed} (numpy default_rng(seed).permutation of the '
              'sorted ids)\n'
              '# written by tools/dataset_converters/stanford_background.py\n')
    for split, split_ids in (('train', train), ('test', test)):
        with open(osp.join(out_dir, 'splits', split + '.txt'), 'w') as f:
            f.write(header + ''.join(i + '\n' for i in split_ids))
    with open(osp.join(out_dir, 'README.txt'), 'w') as f:
        f.write(
            'Stanford Background (Gould et al., ICCV 2009), converted by '
            'mmseg_seggan\'s tools/dataset_converters/stanford_background.py'
            f'\nfrom {osp.abspath(raw_dir)}.\n'
            f'images/: {len(ids)} JPEGs, copied byte for byte.\n'
            'labels/: uint8 PNG masks, 0..7 = ' + ', '.join(STANFORD_CLASSES) +
            '; 255 = unknown (-1 in regions.txt).\n'
            f'splits/: train.txt ({len(train)}) and test.txt ({len(test)}), '
            f'random, seed={seed}.\n')
    return dict(
        num_images=len(ids),
        num_train=len(train),
        num_test=len(test),
        seed=seed,
        ignored_pixels=ignored,
        out_dir=out_dir)


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
