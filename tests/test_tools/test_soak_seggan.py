"""The memory soak script: runs both phases, prints RSS, judges growth."""
from seggan_testing import REPO, import_tool, run_tool

SOAK = 'tools/analysis_tools/soak_seggan.py'
CONFIG = f'{REPO}/tests/data/configs/reliability_seggan.py'


def test_judge_per_phase_after_warmup(capsys):
    judge = import_tool(SOAK).judge
    flat = [(i, 1 if i <= 20 else 2, 500.0 + (100 if i > 20 else 0), 900.0)
            for i in range(2, 42, 2)]
    assert judge(flat, gan_iters=20, warmup=4, max_growth=5.0)
    # 10 % growth in phase 2 after its warm-up: a leak
    leak = [(i, p, m * (1.1 if i == 40 else 1.0), t) for i, p, m, t in flat]
    assert not judge(leak, gan_iters=20, warmup=4, max_growth=5.0)
    out = capsys.readouterr().out
    assert 'phase 2 rss' in out and 'FAIL' in out


def test_soak_runs_both_phases_and_reports(toy_root, tmp_path):
    res = run_tool([
        SOAK, CONFIG, '--data-root', toy_root, '--iters', '6', '--interval',
        '1', '--warmup', '1', '--work-dir',
        str(tmp_path / 'w')
    ],
                   timeout=300)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    assert '[soak] iter     3  phase 1' in res.stdout
    assert '[soak] iter     6  phase 2' in res.stdout
    assert '[soak] PASS' in res.stdout
