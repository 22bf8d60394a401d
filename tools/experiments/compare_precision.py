"""Same answer under --amp? The arms of an fp32 protocol beside the same
arms trained under the bf16 policy from the same baseline and phase 1.

Give the two protocol work dirs (``run_protocol.py`` or ``compare.py``): the
fp32 one, and one whose arms ran under ``--amp`` from the fp32 run's
checkpoints (``--baseline-checkpoint`` / ``--gan-checkpoint``, see
docs/benchmarks.md). Arms that did not start from the same checkpoints
(SHA-256 of every input in the stages' identities) are refused: their
difference would not be the precision's. Prints, per arm, mIoU mean ± std
and per-seed values in both precisions, the policy minus fp32 seed by seed,
whether the policy's mean lies within the fp32 seed range, and the paired
SegGAN - control difference in each precision with its sign.

Example::

    python tools/experiments/compare_precision.py \\
        work_dirs/protocol/stanford-bg-lite0 \\
        work_dirs/protocol-bf16/stanford-bg-lite0
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # ./protocol
from protocol.records import read_record  # noqa: E402
from protocol.summary import arms_of, format_mean_std  # noqa: E402
from protocol.summary import runs_by_seed, summarize  # noqa: E402


def _inputs(stage: dict) -> dict:
    inputs = (stage.get('identity') or {}).get('inputs', {})
    return {role: i.get('sha256') for role, i in inputs.items()}


def check_same_start(fp32: dict, policy: dict) -> List[str]:
    """Arms run in both records whose input checkpoints differ."""
    problems = []
    for name, stage in policy['stages'].items():
        other = fp32['stages'].get(name)
        if other is None or 'metrics' not in stage or 'metrics' not in other:
            continue
        a, b = _inputs(other), _inputs(stage)
        if a != b or None in a.values():
            problems.append(f'{name}: inputs {a} (fp32) vs {b} (policy)')
    return problems


def compare(fp32: dict, policy: dict) -> dict:
    """Per arm: both summaries, per-seed differences and the verdicts."""
    s32, s16 = summarize(fp32), summarize(policy)
    out = {}
    for arm in arms_of(policy):
        if arm == 'baseline' or arm not in s32:
            continue
        a, b = runs_by_seed(fp32, arm), runs_by_seed(policy, arm)
        diffs = {
            seed: round(b[seed]['mIoU'] - a[seed]['mIoU'], 2)
            for seed in sorted(set(a) & set(b), key=str)
        }
        values = s32[arm]['mIoU']['values']
        entry = dict(
            fp32=s32[arm],
            policy=s16[arm],
            diff_by_seed=diffs,
            within_fp32_range=min(values) <= s16[arm]['mIoU']['mean'] <=
            max(values))
        if 'paired' in s32[arm] and 'paired' in s16[arm]:
            p32, p16 = s32[arm]['paired']['mean'], s16[arm]['paired']['mean']
            entry['paired_sign_kept'] = (p32 > 0) == (p16 > 0) and \
                (p32 == 0) == (p16 == 0)
        out[arm] = entry
    return out


def markdown(result: dict) -> str:
    lines = [
        '| arm | mIoU fp32 | mIoU policy | policy - fp32, per seed | '
        'policy mean in the fp32 seed range | paired vs control: fp32 | '
        'policy | sign kept |', '|---|---|---|---|---|---|---|---|'
    ]
    for arm, e in result.items():
        runs = ' / '.join(f'{d:+.2f}' for d in e['diff_by_seed'].values())
        cells = [
            arm,
            f'{format_mean_std(e["fp32"]["mIoU"])} '
            f'({", ".join(map(str, e["fp32"]["mIoU"]["values"]))})',
            f'{format_mean_std(e["policy"]["mIoU"])} '
            f'({", ".join(map(str, e["policy"]["mIoU"]["values"]))})', runs,
            'yes' if e['within_fp32_range'] else '**no**'
        ]
        if 'paired_sign_kept' in e:
            cells += [
                format_mean_std(e['fp32']['paired'], signed=True),
                format_mean_std(e['policy']['paired'], signed=True),
                'yes' if e['paired_sign_kept'] else '**no**'
            ]
        else:
            cells += ['', '', '']
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def main(argv: Optional[List[str]] = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('fp32', help='work dir of the fp32 protocol')
    parser.add_argument('policy', help='work dir of the arms under --amp')
    a = parser.parse_args(argv)
    fp32, policy = (read_record(osp.join(d, 'protocol.json'))
                    for d in (a.fp32, a.policy))
    problems = check_same_start(fp32, policy)
    if problems:
        raise SystemExit(
            'These arms did not start from the same checkpoints in both '
            'records, so their difference is not the precision\'s (run the '
            'policy arms with --baseline-checkpoint / --gan-checkpoint of '
            'the fp32 run):\n  ' + '\n  '.join(problems))
    result = compare(fp32, policy)
    if not result:
        raise SystemExit('No arm is tested in both records yet.')
    print(f'precision: {fp32.get("precision")} vs {policy.get("precision")}')
    print(markdown(result))
    return result


if __name__ == '__main__':
    main()
