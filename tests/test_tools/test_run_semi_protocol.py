"""The semi-supervised protocol's stage graph (dry run: nothing written)."""
import os.path as osp
import subprocess
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_stage_graph_of_the_four_arms(tmp_path):
    """Bugs: an arm missing or trained on the wrong split, the unlabeled
    split given to a labeled-only arm, an arm not started from the
    baseline and its phase-1 G and D, a stage left untested."""
    proc = subprocess.run([
        sys.executable, 'tools/experiments/run_semi_protocol.py',
        'stanford-bg', '--fraction', '8', '--seeds', '0', '1',
        '--work-root',
        str(tmp_path), '--dry-run'
    ],
                          cwd=REPO,
                          capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = dict(
        line.split('] ', 1)[1].split(': ', 1)
        for line in proc.stdout.splitlines()
        if line.startswith('[stanford-bg-1-8] '))
    arms = {
        f'{a}_seed{s}'
        for a in ('control', 'seggan_gan0', 'seggan-semi_gan0',
                  'pseudo-label') for s in (0, 1)
    }
    trains = {n for n in lines if not n.endswith('/test')}
    assert trains == {'baseline', 'gan_pretrain_gan0'} | arms
    assert {n[:-5] for n in lines if n.endswith('/test')} == \
        trains - {'gan_pretrain_gan0'}
    labeled = 'ann_file=splits/semi/labeled_1-8.txt'
    unlabeled = 'datasets.1.ann_file=splits/semi/unlabeled_1-8.txt'
    root = str(tmp_path / 'stanford-bg-1-8')
    for name in arms:
        cmd = lines[name]
        assert labeled in cmd
        assert (unlabeled in cmd) is name.startswith(('seggan-semi',
                                                      'pseudo'))
        assert f'load_from={root}/baseline/iter_' in cmd
        assert f'generator.init_cfg.checkpoint={root}/gan_pretrain_gan0/' \
            in cmd
    assert labeled in lines['baseline'] and labeled in lines[
        'gan_pretrain_gan0']
    assert not (tmp_path / 'stanford-bg-1-8').exists()
