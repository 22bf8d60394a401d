"""Every attempt of a stage stays on the protocol's record, a killed one too.

A CPU protocol is stopped whenever its session ends: the stage it was
running then must not vanish from the record (its log, its wall time).
"""
import json
import os
import os.path as osp
import signal
import subprocess
import sys
import textwrap
import time

from seggan_testing import REPO

sys.path.insert(0, osp.join(REPO, 'tools', 'experiments'))
from protocol.engine import Protocol, Stage  # noqa: E402
from protocol.summary import wall_times  # noqa: E402

# A protocol whose one stage runs ``CMD``: it prints the status the record
# gives the attempt while it runs.
RUNNER = textwrap.dedent('''
    import sys
    sys.path.insert(0, {repo!r} + '/tools/experiments')
    from protocol.engine import Protocol, Stage
    root, cmd = sys.argv[1], sys.argv[2:]
    p = Protocol(root, repo={repo!r}, name='toy')
    p.open({{}})
    stage = Stage('stage_a', 'train', 'none.py')
    stage.record_name = 'stage_a'
    p.record['stages']['stage_a'] = {{}}
    p.run_cmd(stage, cmd, root + '/train-1.out')
    p.close()
''').format(repo=REPO)
READ_STATUS = ('import json, sys; r = json.load(open(sys.argv[1])); '
               'print(r["stages"]["stage_a"]["train_attempts"][-1]["status"])')


def _record(root: str) -> dict:
    with open(osp.join(root, 'protocol.json')) as f:
        return json.load(f)


def test_a_running_attempt_is_on_the_record_before_its_command_runs(tmp_path):
    root = str(tmp_path / 'root')
    p = Protocol(root, repo=REPO, name='toy')
    p.open({})
    stage = Stage('stage_a', 'train', 'none.py')
    stage.record_name = 'stage_a'
    p.record['stages']['stage_a'] = {}
    log = osp.join(root, 'train-1.out')
    attempt = p.run_cmd(
        stage,
        [sys.executable, '-c', READ_STATUS,
         osp.join(root, 'protocol.json')], log)
    p.close()
    with open(log) as f:
        assert f.read().strip() == 'running'  # what the command saw
    assert attempt['status'] == 'done' and attempt['rc'] == 0
    assert _record(root)['stages']['stage_a']['train_attempts'] == [attempt]


def test_a_killed_run_leaves_its_attempt_marked_interrupted(tmp_path):
    root = str(tmp_path / 'root')
    os.makedirs(root)
    # the stage writes to its log, then hangs until the run is killed
    hang = 'import time; print("iteration 1", flush=True); time.sleep(600)'
    proc = subprocess.Popen(
        [sys.executable, '-c', RUNNER, root, sys.executable, '-c', hang],
        cwd=REPO,
        start_new_session=True)
    log = osp.join(root, 'train-1.out')
    deadline = time.time() + 120
    while time.time() < deadline:
        if osp.isfile(log) and 'iteration 1' in open(log).read():
            break
        time.sleep(0.2)
    else:
        raise AssertionError('the stage never started')
    time.sleep(1.5)
    os.killpg(proc.pid, signal.SIGKILL)  # a session that ends
    proc.wait()
    assert _record(
        root)['stages']['stage_a']['train_attempts'][0]['status'] == 'running'
    # the next run of the protocol takes the (stale) lock and marks it
    p = Protocol(root, repo=REPO, name='toy')
    p.open({})
    p.close()
    record = _record(root)
    (attempt, ) = record['stages']['stage_a']['train_attempts']
    assert attempt['status'] == 'interrupted' and attempt['rc'] is None
    assert attempt['log'] == log
    # up to the log's last write: the first line, before the hang
    assert 0. <= attempt['wall_s'] < 60.
    assert '| stage_a |  | ' in wall_times(record)
    assert '| 1 (1 interrupted) |' in wall_times(record)
    with open(osp.join(root, 'events.jsonl')) as f:
        events = [json.loads(line)['event'] for line in f]
    assert events.count('interrupted') == 1
    # a third run finds nothing left to mark
    p = Protocol(root, repo=REPO, name='toy')
    p.open({})
    p.close()
    with open(osp.join(root, 'events.jsonl')) as f:
        assert sum('"interrupted"' in line for line in f) == 1


def test_wall_table_leaves_unknown_times_empty():
    """A stage whose attempts are not on the record (a run of older code,
    killed), one still running, and one never tested. Bug: each printed
    '0' s, as if the stage had taken no time."""
    record = dict(
        stages=dict(
            baseline=dict(max_iters=2000, test_attempts=[dict(wall_s=16.)]),
            gan_pretrain_gan0=dict(
                max_iters=2000,
                train_attempts=[dict(status='done', wall_s=1865.)]),
            arm_seed1=dict(
                max_iters=300,
                train_attempts=[
                    dict(status='interrupted', wall_s=100.),
                    dict(status='running')
                ])))
    table = wall_times(record)
    assert '| baseline | 2000 |  | 0 | 16 |' in table
    assert '| gan_pretrain_gan0 | 2000 | 1865 | 1 |  |' in table
    assert '| arm_seed1 | 300 | 100 | 2 (1 interrupted, 1 running) |  |' \
        in table
    assert '| total (sum of stages) (1 stage(s) without attempts on the ' \
        'record) | | 1981 | | |' in table
