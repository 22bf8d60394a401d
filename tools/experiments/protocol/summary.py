"""Tables of a protocol's record: arms over seeds, paired differences.

Stage names: ``baseline``, ``gan_pretrain[-VARIANT]_ganG``, and arms
``ARM_seedS`` or ``ARM_ganG_seedS`` (phase-1 seed G, phase-2 seed S). Each
arm's stage record names the control it is paired with (``pair_with``:
the CE-only run of the same phase-2 seed and schedule), so a table never
guesses a pairing from names.
"""
import collections
import re
from typing import Dict, List, Optional

_RUN_NAME = re.compile(
    r'^(?P<arm>.+?)(?:_gan(?P<gan>\d+))?_seed(?P<seed>\d+)$')
METRICS = ('mIoU', 'mAcc', 'aAcc')


def stage_name(arm: str, seed: int, gan: Optional[int] = None) -> str:
    """``ARM_seedS``, or ``ARM_ganG_seedS`` with several phase-1 seeds."""
    return f'{arm}_seed{seed}' if gan is None else f'{arm}_gan{gan}_seed{seed}'


def parse_stage_name(name: str) -> Optional[tuple]:
    """(arm, phase-1 seed or None, phase-2 seed) of an arm's stage name."""
    m = _RUN_NAME.match(name)
    if not m:
        return None
    gan = m.group('gan')
    return m.group('arm'), None if gan is None else int(gan), int(
        m.group('seed'))


def mean_std(values: List[float]) -> Dict[str, float]:
    """Mean and sample standard deviation (0 for one value)."""
    n = len(values)
    mean = sum(values) / n
    std = (sum((v - mean)**2 for v in values) / (n - 1))**0.5 if n > 1 else 0.
    return dict(
        mean=round(mean, 2),
        std=round(std, 2),
        n=n,
        values=[round(v, 2) for v in values])


def paired_runs(record: dict, arm: str) -> List[tuple]:
    """(phase-1 seed, phase-2 seed, control metrics, arm metrics) of the
    finished runs of ``arm`` and the controls they are paired with."""
    stages = record['stages']
    pairs = []
    for name in sorted(stages):
        parsed = parse_stage_name(name)
        if not parsed or parsed[0] != arm:
            continue
        control = stages.get(stages[name].get('pair_with', ''), {})
        c, m = control.get('metrics'), stages[name].get('metrics')
        if c and m:
            pairs.append((parsed[1], parsed[2], c, m))
    return pairs


def runs_by_seed(record: dict, arm: str) -> Dict[tuple, dict]:
    """``{(phase-1 seed or None, phase-2 seed): metrics}`` of the tested
    runs of ``arm``."""
    out = {}
    for name, stage in record['stages'].items():
        parsed = parse_stage_name(name)
        if parsed and parsed[0] == arm and stage.get('metrics'):
            out[parsed[1:]] = stage['metrics']
    return out


def paired_between(record: dict, arm: str, other: str) -> List[tuple]:
    """(phase-1 seed, phase-2 seed, other's metrics, arm's metrics) of the
    runs of two arms with the same seeds: the same phase-2 seed, and the
    same phase-1 seed where ``other`` has one (an arm without G, e.g. the
    control, pairs with every phase-1 seed of that phase-2 seed)."""
    ours, theirs = runs_by_seed(record, arm), runs_by_seed(record, other)
    pairs = []
    for (gan, seed), m in sorted(
            ours.items(), key=lambda kv: (kv[0][0] or 0, kv[0][1])):
        o = theirs.get((gan, seed)) or theirs.get((None, seed))
        if o:
            pairs.append((gan, seed, o, m))
    return pairs


def arms_of(record: dict) -> Dict[str, List[str]]:
    """Finished stage names per arm, baseline first, controls next."""
    stages = record['stages']
    runs: Dict[str, List[str]] = {}
    for name in sorted(stages):
        parsed = parse_stage_name(name)
        if parsed and 'metrics' in stages[name]:
            runs.setdefault(parsed[0], []).append(name)
    order = sorted(runs, key=lambda a: (not a.startswith('control'), a))
    out = {}
    if 'metrics' in stages.get('baseline', {}):
        out['baseline'] = ['baseline']
    out.update((a, runs[a]) for a in order)
    return out


def summarize(record: dict) -> dict:
    """Mean +- sample std over seeds per arm; the baseline as one value.

    Arms with several phase-1 seeds pool every (phase-1, phase-2) run, so
    the std is the spread a rerun with new seeds would see (the baseline is
    one run). ``paired`` is each arm minus its control, run by run.
    """
    stages = record['stages']
    out = {}
    for arm, names in arms_of(record).items():
        ms = [stages[n]['metrics'] for n in names]
        entry = {k: mean_std([m[k] for m in ms]) for k in METRICS}
        entry['seeds'] = [stages[n].get('seed') for n in names]
        if arm != 'baseline':
            gans = [parse_stage_name(n)[1] for n in names]
            if any(g is not None for g in gans):
                entry['gan_seeds'] = gans
            pairs = paired_runs(record, arm)
            if pairs and not arm.startswith('control'):
                entry['paired'] = mean_std(
                    [m['mIoU'] - c['mIoU'] for _, _, c, m in pairs])
        if all(m.get('per_class') for m in ms):
            entry['per_class_IoU'] = {
                c: mean_std([m['per_class'][c]['IoU'] or 0. for m in ms])
                for c in ms[0]['per_class']
            }
        first = stages[names[0]]
        entry['iters'] = first.get('max_iters')
        for key in ('overrides', 'config'):
            if key in first:
                entry[key] = first[key]
        out[arm] = entry
    return out


def format_mean_std(e: dict, signed: bool = False, count: bool = False) -> str:
    """``mean ± std`` of a :func:`mean_std` entry (``count``: and ``n``).

    One run has no spread: it is printed alone (``67.62 (n=1)`` with
    ``count``), never as ``± 0.00``, which would claim a measured zero.
    """
    m = e['mean'] + 0.  # -0.0 (a mean that rounds to 0) prints as 0.00
    mean = f'{m:+.2f}' if signed else f'{m:.2f}'
    text = mean if e['n'] < 2 else f'{mean} ± {e["std"]:.2f}'
    return f'{text} (n={e["n"]})' if count else text


def metric_cells(e: dict) -> str:
    """The ``mIoU | mAcc | aAcc`` cells of an arm's summary entry."""
    return ' | '.join(format_mean_std(e[k]) for k in METRICS)


def paired_cell(e: dict) -> str:
    """An arm's paired difference to its control (signed, with n), or
    nothing for an arm without one (the control, the baseline)."""
    p = e.get('paired')
    return format_mean_std(p, signed=True, count=True) if p else ''


def summary_markdown(record: dict, title: Optional[str] = None) -> str:
    """The model-zoo style arm table and the per-class IoU table."""
    s = record['summary']
    if not s:
        return f'### {title or record.get("protocol", "")}\n\n(no finished ' \
            'stage yet)\n'
    lines = [
        f'### {title or record.get("protocol", "")}', '',
        '| Arm | Iters | Seeds | mIoU | mIoU per seed | mAcc | aAcc | '
        'arm - control (paired) | config |',
        '|---|---|---|---|---|---|---|---|---|'
    ]
    for arm, e in s.items():
        per_seed = ', '.join(f'{v:.2f}' for v in e['mIoU']['values'])
        seeds = [str(x) for x in e['seeds']]
        if 'gan_seeds' in e:  # phase-1 seed / phase-2 seed
            seeds = [f'{g}/{x}' for g, x in zip(e['gan_seeds'], e['seeds'])]
        paired = paired_cell(e)
        config = ''
        if 'config' in e:  # the repository's configs from docs/; a derived
            path = e['config']  # one (compare.py) by its absolute path
            link = path if path.startswith('/') else '../' + path
            config = f'[config]({link})'
        miou, macc, aacc = (format_mean_std(e[k]) for k in METRICS)
        lines.append(f'| {arm} | {e["iters"]} | {", ".join(seeds)} | '
                     f'{miou} | {per_seed} | {macc} | {aacc} | {paired} | '
                     f'{config} |')
    for arm, e in s.items():
        if e.get('overrides'):
            lines.append(f'\n`{arm}`: its config with '
                         f'`{" ".join(e["overrides"])}`.')
    with_classes = [a for a in s if 'per_class_IoU' in s[a]]
    if with_classes:
        classes = list(s[with_classes[0]]['per_class_IoU'])
        lines += [
            '', '| Class | ' + ' | '.join(with_classes) + ' |',
            '|---|' + '---|' * len(with_classes)
        ]
        for c in classes:
            lines.append(f'| {c} | ' + ' | '.join(
                format_mean_std(s[a]['per_class_IoU'][c])
                for a in with_classes) + ' |')
    return '\n'.join(lines) + '\n'


def paired_differences(record: dict) -> str:
    """Each arm minus its control, run by run; with several phase-1 seeds
    also per phase-1 seed (how much one trained G and D moves it)."""
    rows = [
        '| Arm | Phase-1 seed | Phase-2 seed | control mIoU | arm mIoU | '
        'arm - control |', '|---|---|---|---|---|---|'
    ]
    for arm in record['summary']:
        if arm == 'baseline' or arm.startswith('control'):
            continue
        diffs, by_gan = [], {}
        for gan, seed, c, m in paired_runs(record, arm):
            d = m['mIoU'] - c['mIoU']
            diffs.append(d)
            by_gan.setdefault(gan, []).append(d)
            rows.append(f'| {arm} | {"" if gan is None else gan} | {seed} | '
                        f'{c["mIoU"]:.2f} | {m["mIoU"]:.2f} | {d:+.2f} |')
        if len(by_gan) > 1:
            for gan, ds in sorted(by_gan.items()):
                rows.append(f'| {arm} | {gan} | mean ± std | | | '
                            f'{format_mean_std(mean_std(ds), True, True)} |')
        if len(diffs) > 1:
            rows.append(f'| {arm} | all | mean ± std | | | '
                        f'{format_mean_std(mean_std(diffs), True, True)} |')
    return '\n'.join(rows) + '\n'


def wall_times(record: dict) -> str:
    """Wall time of every stage, all attempts added up (an interrupted
    one up to its log's last write)."""
    rows = [
        '| Stage | Iters | Train wall (s) | Attempts | Test wall (s) |',
        '|---|---|---|---|---|'
    ]
    total, unknown = 0., 0

    def cell(attempts: list) -> str:
        # no time on the record (no attempt, or only one still running)
        # is not 0 s: leave the cell empty
        timed = [a['wall_s'] for a in attempts if 'wall_s' in a]
        return f'{sum(timed):.0f}' if timed else ''

    for name, st in record['stages'].items():
        train = st.get('train_attempts', [])
        tests = st.get('test_attempts', [])
        total += sum(a.get('wall_s', 0.) for a in train + tests)
        unknown += not train
        counts = collections.Counter(a['status'] for a in train
                                     if a.get('status') in ('interrupted',
                                                            'running',
                                                            'failed'))
        attempts = f'{len(train)}' + (' ({})'.format(', '.join(
            f'{n} {k}' for k, n in sorted(counts.items()))) if counts else '')
        rows.append(f'| {name} | {st.get("max_iters", "")} | {cell(train)} '
                    f'| {attempts} | {cell(tests)} |')
    note = f' ({unknown} stage(s) without attempts on the record)' \
        if unknown else ''
    rows.append(f'| total (sum of stages){note} | | {total:.0f} | | |')
    return '\n'.join(rows) + '\n'


def environment_line(record: dict) -> str:
    env = record.get('environment', {})
    return (f'torch {env.get("torch")}, mmengine {env.get("mmengine")}, '
            f'mmseg {env.get("mmseg")}, {env.get("cpu")} (capability '
            f'{env.get("cpu_capability")}), {env.get("nproc")} CPUs, '
            f'{env.get("threads_per_run")} thread(s) per run, jobs '
            f'{env.get("jobs")}, nice {env.get("nice")}, precision '
            f'{record.get("precision", "fp32")}.')
