"""Export a protocol's record to carry its results off this machine.

Reads ``<work_root>/<name>/protocol.json`` and writes it to ``--out`` with
every trained stage's weights digest and the logged scalars of every
stage, so that
``summarize.py`` and ``make_plots.py`` (``--merge FILE``) can pool its
finished arms into a later run of the same protocol on another machine,
once that run has reproduced the stages they started from bit for bit.
Run it while the work dirs (checkpoints, logs) are still there.

Example::

    python tools/experiments/export_record.py stanford-bg-lite0 \\
        --out docs/records/stanford-bg-lite0_DATE.json
"""
import argparse
import os
import os.path as osp
import sys
from typing import List, Optional

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # ./protocol
from protocol.carried_record import export_record  # noqa: E402
from protocol.records import read_record, write_record  # noqa: E402


def main(argv: Optional[List[str]] = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('name', help='the protocol (dataset) name')
    parser.add_argument('--work-root', default='work_dirs/protocol')
    parser.add_argument('--out', required=True, help='the JSON file to write')
    args = parser.parse_args(argv)
    src = osp.join(args.work_root, args.name, 'protocol.json')
    if not osp.isfile(src):
        parser.error(f'{src} does not exist: give the --work-root the '
                     f'protocol {args.name} ran in')
    if osp.exists(args.out):
        parser.error(f'{args.out} exists: an exported record is never '
                     'replaced; give another --out (e.g. with the date)')
    record = export_record(read_record(src))
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    write_record(record, args.out, indent=1, sort_keys=True)
    stages = record['stages']
    print(f'{args.out}: {len(stages)} stages '
          f'({sum("metrics" in s for s in stages.values())} tested, '
          f'{sum("weights_sha256" in s for s in stages.values())} with '
          f'weights digests), {osp.getsize(args.out) // 1024} KB')
    return args.out


if __name__ == '__main__':
    main()
