"""tools/dataset_converters/make_semi_splits.py: seeded, nested, disjoint."""
import os
import os.path as osp

import pytest
from seggan_testing import import_tool

tool = import_tool('tools/dataset_converters/make_semi_splits.py')


def _read(path):
    with open(path) as f:
        return [line.strip() for line in f if not line.startswith('#')]


def test_splits_are_seeded_nested_and_cover_the_training_set(tmp_path):
    split = tmp_path / 'train.txt'
    ids = [f'img{i:03d}' for i in range(40)]
    split.write_text('# seed=0\n' + ''.join(i + '\n' for i in ids))
    out = str(tmp_path / 'semi')
    tool.main([
        '--split',
        str(split), '--out-dir', out, '--fractions', '8', '4', '--seed', '3'
    ])
    l8, u8 = (
        _read(osp.join(out, f'{p}_1-8.txt')) for p in ('labeled', 'unlabeled'))
    l4, u4 = (
        _read(osp.join(out, f'{p}_1-4.txt')) for p in ('labeled', 'unlabeled'))
    assert (len(l8), len(l4)) == (5, 10)
    assert set(l8) <= set(l4)  # nested: 1/4 adds labels to 1/8
    for lab, unl in ((l8, u8), (l4, u4)):
        assert not set(lab) & set(unl)
        assert sorted(lab + unl) == ids
    with open(osp.join(out, 'labeled_1-8.txt')) as f:
        assert 'seed=3' in f.read()
    again = str(tmp_path / 'again')
    tool.main([
        '--split',
        str(split), '--out-dir', again, '--fractions', '8', '--seed', '3'
    ])
    assert _read(osp.join(again, 'labeled_1-8.txt')) == l8
    other = str(tmp_path / 'other')
    tool.main([
        '--split',
        str(split), '--out-dir', other, '--fractions', '8', '--seed', '4'
    ])
    assert _read(osp.join(other, 'labeled_1-8.txt')) != l8


def test_a_fraction_without_unlabeled_images_is_refused():
    with pytest.raises(ValueError, match='1/2 of 1 ids'):
        tool.make_splits(['a'], [2], 0)


def _ids_file(tmp_path, n=40):
    split = tmp_path / 'train.txt'
    split.write_text(''.join(f'img{i:03d}\n' for i in range(n)))
    return str(split)


def test_an_existing_split_is_never_replaced(tmp_path):
    # Bug: a second seed into the same folder replaced the files without
    # notice (1/8 and 1/4 then from different seeds, no longer nested).
    split, out = _ids_file(tmp_path), str(tmp_path / 'semi')
    tool.main(['--split', split, '--out-dir', out, '--seed', '0'])
    before = {f: open(osp.join(out, f)).read() for f in os.listdir(out)}
    with pytest.raises(FileExistsError) as e:
        tool.main(['--split', split, '--out-dir', out, '--seed', '1'])
    msg = str(e.value)
    assert osp.join(out,
                    'labeled_1-8.txt') in msg and 'another --out-dir' in msg
    assert {
        f: open(osp.join(out, f)).read()
        for f in os.listdir(out)
    } == before  # nothing written
    # The same command again is fine: identical files are left as they are.
    tool.main(['--split', split, '--out-dir', out, '--seed', '0'])


def test_the_split_given_as_input_is_never_overwritten(tmp_path):
    split, out = _ids_file(tmp_path), str(tmp_path / 'semi')
    tool.main(['--split', split, '--out-dir', out, '--fractions', '4'])
    own = osp.join(out, 'unlabeled_1-4.txt')
    text = open(own).read()
    with pytest.raises(FileExistsError, match='--split .* never overwritten'):
        tool.main(['--split', own, '--out-dir', out, '--fractions', '4'])
    assert open(own).read() == text


@pytest.mark.parametrize('k', ['0', '1', '-2'])
def test_fraction_below_two_is_a_clear_error(tmp_path, capsys, k):
    # Bug: --fractions 0 raised ZeroDivisionError.
    with pytest.raises(SystemExit):
        tool.main([
            '--split',
            _ids_file(tmp_path), '--out-dir',
            str(tmp_path / 'o'), '--fractions', '8', k
        ])
    err = capsys.readouterr().err
    assert f'got {k}' in err and 'integer >= 2' in err
    assert not (tmp_path / 'o').exists()
    with pytest.raises(ValueError, match='K >= 2'):
        tool.make_splits(['a', 'b', 'c'], [int(k)], 0)


def _write(split, out, seed, start, results):
    start.wait()
    try:
        tool.main(['--split', split, '--out-dir', out, '--seed', str(seed)])
        results.put((seed, 'ok'))
    except Exception as e:  # noqa: BLE001  (the message is the result)
        results.put((seed, f'{type(e).__name__}: {e}'))


def test_two_writers_at_once_never_mix_seeds(tmp_path):
    """Bug (issue 33, item 2): two runs at once on one --out-dir (seeds 0
    and 1) both exited 0 in about half of 100 trials, and in 6 of 100
    ``labeled_1-8.txt`` came from one seed, ``unlabeled_1-8.txt`` from the
    other. Now one writes the whole set and the other is refused, naming the
    writer (it held the folder) or the files (it came after)."""
    import multiprocessing
    ctx = multiprocessing.get_context('fork')
    split = _ids_file(tmp_path, n=600)
    for trial in range(40):
        out = str(tmp_path / f'semi{trial}')
        start, results = ctx.Barrier(2), ctx.Queue()
        procs = [
            ctx.Process(target=_write, args=(split, out, s, start, results))
            for s in (0, 1)
        ]
        for p in procs:
            p.start()
        for p in procs:
            p.join(120)
        got = dict(results.get(timeout=10) for _ in procs)
        winners = [s for s, r in got.items() if r == 'ok']
        assert len(winners) == 1, f'trial {trial}: {got}'
        loser = got[1 - winners[0]]
        assert ('DirLockError' in loser and 'is in use by' in loser
                or 'FileExistsError' in loser), loser
        seeds = set()
        for name in os.listdir(out):
            if name.endswith('.txt'):
                with open(osp.join(out, name)) as f:
                    seeds.add(f.read().split('seed=')[1].split()[0])
        assert seeds == {str(winners[0])}, f'trial {trial}: mixed {seeds}'


def test_excluded_ids_leave_the_unlabeled_sets_and_nothing_else():
    # A copy of an evaluation image among the training ids (Stanford
    # Background's 1000288 = test 9000288) must stay out of the unlabeled
    # sets, and the labeled sets must be those of the recorded splits.
    ids = [f'img{i:03d}' for i in range(40)]
    plain = tool.make_splits(ids, [8, 4], seed=3)
    dup = plain[4]['unlabeled'][0]
    mended = tool.make_splits(ids, [8, 4], seed=3, exclude=[dup])
    for k in (8, 4):
        assert mended[k]['labeled'] == plain[k]['labeled']
        assert mended[k]['unlabeled'] == [
            i for i in plain[k]['unlabeled'] if i != dup
        ]
    with pytest.raises(ValueError, match='labeled set of 1/8.*another --seed'):
        tool.make_splits(ids, [8, 4], seed=3, exclude=[plain[8]['labeled'][0]])
    with pytest.raises(ValueError, match='not among the 40 ids'):
        tool.make_splits(ids, [8], seed=3, exclude=['nope'])
