"""compare_precision.py: fp32 arms beside the same arms under --amp."""
import os.path as osp
import sys

import pytest
from seggan_testing import REPO, import_tool

sys.path.insert(0, osp.join(REPO, 'tools', 'experiments'))
from protocol.records import write_record  # noqa: E402

TOOL = 'tools/experiments/compare_precision.py'


def _record(root, control, seggan, baseline_sha='b' * 64, precision='fp32'):
    """A finished protocol record: control / SegGAN mIoU per seed 0, 1, 2."""
    inputs = dict(
        load_from=dict(stage='baseline', sha256=baseline_sha),
        generator=dict(stage='gan_pretrain_gan0', sha256='g' * 64))
    stages = dict(baseline=dict(metrics=dict(mIoU=60., mAcc=70., aAcc=80.)))
    for arm, values in (('control', control), ('seggan_gan0', seggan)):
        for seed, miou in enumerate(values):
            name = f'{arm}_seed{seed}'
            stages[name] = dict(
                seed=seed,
                identity=dict(inputs=inputs),
                metrics=dict(mIoU=miou, mAcc=70., aAcc=80.))
            if arm != 'control':
                stages[name]['pair_with'] = f'control_seed{seed}'
    root.mkdir()
    write_record(
        dict(stages=stages, precision=precision), str(root / 'protocol.json'))
    return str(root)


def test_same_answer_is_said_seed_by_seed(tmp_path, capsys):
    fp32 = _record(tmp_path / 'a', [67.0, 67.5, 66.5], [66.0, 66.8, 66.1])
    amp = _record(tmp_path / 'b', [67.2, 67.1, 66.9], [66.5, 66.4, 65.9],
                  precision='bf16 (--amp)')
    result = import_tool(TOOL).main([fp32, amp])
    control, seggan = result['control'], result['seggan']
    assert list(control['diff_by_seed'].values()) == [0.2, -0.4, 0.4]
    assert control['within_fp32_range'] and seggan['within_fp32_range']
    # SegGAN - control: -0.70 (fp32), -0.80 (policy): same sign
    assert seggan['fp32']['paired']['mean'] == -0.7
    assert seggan['policy']['paired']['mean'] == -0.8
    assert seggan['paired_sign_kept']
    out = capsys.readouterr().out
    assert 'fp32 vs bf16 (--amp)' in out and '**no**' not in out


def test_a_changed_answer_is_flagged(tmp_path, capsys):
    """Bugs: a policy mean outside the fp32 seeds, or a flipped paired
    sign, reported as the same answer."""
    fp32 = _record(tmp_path / 'a', [67.0, 67.5, 66.5], [66.0, 66.8, 66.1])
    amp = _record(tmp_path / 'b', [64.0, 64.2, 64.1], [66.5, 66.4, 65.9])
    result = import_tool(TOOL).main([fp32, amp])
    assert not result['control']['within_fp32_range']
    assert not result['seggan']['paired_sign_kept']  # +2.17 vs -0.70
    assert capsys.readouterr().out.count('**no**') == 2


def test_arms_from_another_baseline_are_refused(tmp_path):
    fp32 = _record(tmp_path / 'a', [67.0, 67.5, 66.5], [66.0, 66.8, 66.1])
    amp = _record(tmp_path / 'b', [67.2, 67.1, 66.9], [66.5, 66.4, 65.9],
                  baseline_sha='c' * 64)
    with pytest.raises(SystemExit, match='not start from the same'):
        import_tool(TOOL).main([fp32, amp])
