"""Markdown tables of finished protocol runs (``run_protocol.py``).

Prints, per dataset: the arm table (mIoU mean ± std over seeds, the
per-seed values, mAcc, aAcc; ablation arms ``seggan-NAME`` too), the
per-class IoU table, the paired SegGAN - control differences per seed, and
the wall time of every stage; with ``--merge``, the arms of records exported
on another machine (``export_record.py``) pooled in.

Example::

    python tools/experiments/summarize.py camvid stanford-bg
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # ./protocol
from protocol.carried_record import add_merge_option  # noqa: E402
from protocol.carried_record import load_record  # noqa: E402
from protocol.summary import environment_line  # noqa: E402
from protocol.summary import paired_differences  # noqa: E402
from protocol.summary import summarize  # noqa: E402
from protocol.summary import summary_markdown  # noqa: E402
from protocol.summary import wall_times  # noqa: E402


def main(argv: Optional[List[str]] = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('datasets', nargs='+')
    parser.add_argument('--work-root', default='work_dirs/protocol')
    add_merge_option(parser, 'their finished arms')
    args = parser.parse_args(argv)
    out = []
    for ds in args.datasets:
        record = load_record(args.work_root, ds, args.merge)
        record['summary'] = summarize(record)  # also for unfinished runs
        out += [
            summary_markdown(record, ds), '',
            paired_differences(record),
            wall_times(record),
            environment_line(record), ''
        ]
    text = '\n'.join(out)
    print(text)
    return text


if __name__ == '__main__':
    main()
