"""tools/analysis_tools/mask_quality.py end to end on a tiny ToyScenes set."""
import csv
import json
import os.path as osp

import mmcv
import mmseg_seggan  # noqa: F401
import numpy as np
import pytest
import torch

from seggan_testing import (import_tool, make_toy_scenes,
                            save_toy_checkpoint)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'seggan_toy.py')
NUM_VAL, SIZE = 5, (48, 64)


def load_tool():
    return import_tool('tools/analysis_tools/mask_quality.py')


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    """Toy val data and a randomly initialised SegGAN checkpoint."""
    tmp = tmp_path_factory.mktemp('mask_quality')
    data_root = make_toy_scenes(
        str(tmp / 'toy'), num_train=0, num_val=NUM_VAL, size=SIZE, seed=3)
    torch.manual_seed(0)
    ckpt = save_toy_checkpoint(CONFIG, str(tmp / 'seggan_random.pth'))
    options = [
        '--cfg-options', f'val_dataloader.dataset.data_root={data_root}',
        'val_dataloader.num_workers=0'
    ]
    return tmp, ckpt, options


def read_csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def test_predict_mode(setup):
    tmp, ckpt, options = setup
    out = tmp / 'predict'
    summary = load_tool().main(
        [CONFIG, ckpt, '--out-dir',
         str(out), '--worst', '3'] + options)
    rows = read_csv(out / 'scores.csv')
    assert len(rows) == NUM_VAL
    assert [int(r['rank']) for r in rows] == list(range(1, NUM_VAL + 1))
    scores = [float(r['score']) for r in rows]
    assert scores == sorted(scores)  # worst (lowest quality) first
    assert all(r['score'] == r['recon'] for r in rows)  # the default score
    assert {r['image']
            for r in rows} == {f'val_{i:04d}.png'
                               for i in range(NUM_VAL)}
    assert all(0 <= float(r['miou']) <= 1 for r in rows)
    assert {'entropy', 'recon_ratio', 'disc', 'stat_err_pred'} <= set(rows[0])
    sheet = mmcv.imread(str(out / 'worst.png'))
    assert sheet.shape == (3 * (20 + SIZE[0]), 6 * SIZE[1], 3)
    assert osp.getsize(out / 'score_vs_miou.png') > 1000
    saved = json.loads((out / 'summary.json').read_text())
    assert saved['num_images'] == NUM_VAL
    assert set(saved['spearman_vs_miou']) == set(load_tool().PREDICT_SCORES)
    assert summary['score'] == 'recon'


def test_audit_mode_with_corruptions(setup, capsys):
    tmp, ckpt, options = setup
    out = tmp / 'audit'
    tool = load_tool()
    tool.main([
        CONFIG, ckpt, '--mode', 'audit', '--corrupt', '3', '--seed', '1',
        '--out-dir',
        str(out), '--worst', '2'
    ] + options)
    rows = read_csv(out / 'scores.csv')
    assert len(rows) == NUM_VAL
    assert sum(int(r['corrupted']) for r in rows) == 3
    corrupted = [r for r in rows if r['corrupted'] == '1']
    assert {r['corruption']
            for r in corrupted} == {'shift', 'wrong_class', 'holes'}
    assert all(float(r['changed_share']) > 0 for r in corrupted)
    assert all(
        float(r['changed_share']) == 0 for r in rows if r['corrupted'] == '0')
    assert all(r['score'] == r['disagreement_g'] for r in rows)  # default
    summary = json.loads((out / 'summary.json').read_text())
    audit = summary['audit']['disagreement_g']
    assert audit['k'] == 3
    # Recomputed from the CSV: precision@k of the ranking written there.
    top = rows[:3]
    assert audit['precision_at_k'] == pytest.approx(
        sum(int(r['corrupted']) for r in top) / 3)
    assert mmcv.imread(str(out / 'worst.png')).shape[0] == 2 * (20 + SIZE[0])
    assert not (out / 'score_vs_miou.png').exists()
    assert 'precision@k=' in capsys.readouterr().out
    # Same seed, same corrupted images; numpy's global RNG is not used.
    state = np.random.get_state()[1].copy()
    tool.main([
        CONFIG, ckpt, '--mode', 'audit', '--corrupt', '3', '--seed', '1',
        '--out-dir',
        str(tmp / 'audit2'), '--worst', '0'
    ] + options)
    assert np.array_equal(state, np.random.get_state()[1])
    again = read_csv(tmp / 'audit2' / 'scores.csv')
    chosen = [r['image'] for r in again if r['corrupted'] == '1']
    assert sorted(chosen) == sorted(r['image'] for r in corrupted)
    assert not (tmp / 'audit2' / 'worst.png').exists()


def test_argument_errors(setup):
    tool = load_tool()
    _, ckpt, _ = setup
    with pytest.raises(SystemExit):
        tool.parse_args([CONFIG, ckpt, '--corrupt', '2'])
    with pytest.raises(SystemExit):
        tool.parse_args([CONFIG, ckpt, '--score', 'audit_ratio'])
    args = tool.parse_args([CONFIG, ckpt, '--mode', 'audit'])
    assert args.score == 'disagreement_g'  # the audit default
    with pytest.raises(FileNotFoundError, match='Checkpoint not found'):
        tool.main([CONFIG, ckpt + '.missing'])


def test_corrupt_more_than_scored(setup):
    tmp, ckpt, options = setup
    with pytest.raises(ValueError, match='Cannot corrupt 3 of 2'):
        load_tool().main([
            CONFIG, ckpt, '--mode', 'audit', '--corrupt', '3', '--max-images',
            '2', '--out-dir',
            str(tmp / 'bad')
        ] + options)


@pytest.mark.parametrize('drop', [('generator.', 'discriminator.'),
                                  ('discriminator.', )])
def test_checkpoint_without_gan_weights_is_refused(setup, drop):
    """Bug: a baseline checkpoint (no G, no D) was scored with the randomly
    initialised G and reported as if nothing were wrong."""
    tmp, ckpt, options = setup
    state = torch.load(ckpt, weights_only=True)
    state['state_dict'] = {
        k: v
        for k, v in state['state_dict'].items() if not k.startswith(drop)
    }
    baseline = str(tmp / f'without_{len(drop)}.pth')
    torch.save(state, baseline)
    out = tmp / f'refused_{len(drop)}'
    with pytest.raises(ValueError, match='no trained') as e:
        load_tool().main([CONFIG, baseline, '--out-dir', str(out)] + options)
    msg = str(e.value)
    assert baseline in msg and 'random' in msg
    assert ('generator' in msg) == ('generator.' in drop)
    assert not osp.exists(out)  # nothing written
