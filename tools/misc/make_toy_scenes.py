"""Generate the ToyScenes dataset (the embedded default) outside the repo.

Example:
    python tools/misc/make_toy_scenes.py data/toy_scenes --seed 0
"""
import argparse

from mmseg_seggan.datasets.toy_scenes import make_toy_scenes


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out_dir', help='folder to write the dataset to')
    parser.add_argument('--num-train', type=int, default=96)
    parser.add_argument('--num-val', type=int, default=24)
    parser.add_argument(
        '--size', type=int, nargs=2, default=[96, 128], metavar=('H', 'W'))
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args()


def main():
    args = parse_args()
    out = make_toy_scenes(args.out_dir, args.num_train, args.num_val,
                          tuple(args.size), args.seed)
    print(f'ToyScenes written to {out} ({args.num_train} train, '
          f'{args.num_val} val, {args.size[0]}x{args.size[1]}, '
          f'seed {args.seed})')


if __name__ == '__main__':
    main()
