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
import json
import os
import os.path as osp
from typing import List, Optional

from mmseg_seggan.experiments.carried_record import export_record


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
    with open(src) as f:
        record = export_record(json.load(f))
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    tmp = args.out + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(record, f, indent=1, sort_keys=True)
    os.replace(tmp, args.out)
    stages = record['stages']
    print(f'{args.out}: {len(stages)} stages '
          f'({sum("metrics" in s for s in stages.values())} tested, '
          f'{sum("weights_sha256" in s for s in stages.values())} with '
          f'weights digests), {osp.getsize(args.out) // 1024} KB')
    return args.out


if __name__ == '__main__':
    main()
