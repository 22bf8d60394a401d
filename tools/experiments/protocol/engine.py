"""Resumable experiment protocols that never report a stale stage.

A protocol is a graph of stages (train a config, test a checkpoint), each
run as the product's own command line (``tools/train.py``,
``tools/test.py``) in a subprocess, in a work dir of its own under one
work root. Three rules make its record trustworthy:

* **A stage is identified by everything that can change its result**:
  the config as the run will see it (the file read by mmengine with every
  ``--cfg-options`` merged), the extra command line flags (``--amp``), the
  threads and the precision, the SHA-256 of every checkpoint it starts
  from, the data its loader reads and the code that runs
  (:mod:`.identity`). That identity is written to ``<stage>/stage.json``
  before the first iteration. A rerun whose **training** stage differs in
  any of these refuses, naming the difference, instead of counting the old
  output as the new stage's; a **test** stage whose identity changed (other
  test images, other code) is tested again, and says so.
* **Outputs are what the stages wrote**: ``stage.json`` holds the SHA-256
  of the stage's checkpoint or ``metrics.json``; a checkpoint replaced
  under its consumers refuses, an edited ``metrics.json`` is tested again,
  and ``protocol.json`` carries a digest of itself (:func:`.records.
  read_record`): an edited or cut-short record is refused, never reported.
* **One protocol per work root at a time** (:class:`DirLock` on the root,
  naming the holder, released by the kernel when its process dies); the
  record ``protocol.json`` is only written by the holder, and
  ``events.jsonl`` beside it is appended to, never rewritten.
* **Every attempt's log is kept**: ``train-1.out``, ``train-2.out`` ...; a
  stage killed half-way resumes from its own last checkpoint.

A work dir that holds no ``stage.json`` but mmengine's config dump of the
same stage (a run started by hand with the protocol's exact command) is
adopted; any other unknown work dir is refused.
"""
import argparse
import calendar
import difflib
import hashlib
import json
import os
import os.path as osp
import shlex
import subprocess
import sys
import threading
import time
from typing import Callable, Dict, List, Optional

from mmseg_seggan.utils import DirLock
from .identity import code_digest, data_digest, precision_of, sha256_of
from .records import (environment, read_record, read_test_metrics,
                      write_record)

STAGE_FILE = 'stage.json'
# mmengine's Config.fromfile is not thread-safe (pkg_resources look-ups fail
# at random when several threads parse configs); parse one at a time.
CONFIG_LOCK = threading.Lock()
# What a stage's identity held before it covered data, code and threads.
LEGACY_KEYS = ('kind', 'config', 'flags', 'config_sha256', 'inputs')


class StageMismatchError(RuntimeError):
    """A stage's work dir holds another stage than the one asked for."""


def parse_options(options: List[str]) -> dict:
    """``KEY=VALUE`` strings as ``--cfg-options`` parses them."""
    from mmengine.config import DictAction
    ns = argparse.Namespace()
    if options:
        DictAction(option_strings=[], dest='o')(None, ns, options)
    return getattr(ns, 'o', {}) or {}


class Stage:
    """One step of a protocol.

    Args:
        name (str): Its name, also its work dir under the root
            (``<root>/<name>``; a test stage: ``<root>/<train>/test``).
        kind (str): ``'train'`` or ``'test'``.
        config (str): The config, relative to the repository.
        options (list[str]): ``--cfg-options`` of the command.
        inputs (dict): ``{role: stage name}``: the checkpoints it starts
            from (``load_from``, G and D, the checkpoint to test).
        seed (int, optional): Its seed (recorded for the tables).
        flags (list[str]): Extra command-line flags (``--amp``).
        info (dict): What the tables need (arm, seeds, overrides).
    """

    def __init__(self,
                 name: str,
                 kind: str,
                 config: str,
                 options: Optional[List[str]] = None,
                 inputs: Optional[Dict[str, str]] = None,
                 seed: Optional[int] = None,
                 flags: Optional[List[str]] = None,
                 info: Optional[dict] = None):
        assert kind in ('train', 'test'), kind
        self.name, self.kind, self.config = name, kind, config
        self.options = list(options or [])
        self.inputs = dict(inputs or {})
        self.seed = seed
        self.flags = list(flags or [])
        self.info = dict(info or {})

    @property
    def deps(self) -> List[str]:
        return sorted(set(self.inputs.values()))


class Protocol:
    """Runs a graph of :class:`Stage` under one work root, with a record.

    Args:
        root (str): The work root of this protocol (one dataset / preset).
        repo (str): The repository whose tools and configs run.
        name (str): The protocol's name, for messages and the record.
        threads (int): OMP/MKL threads per run.
        jobs (int): Stages run at once (ready stages, in the given order).
        nice (int): Niceness of the runs.
        dry_run (bool): Print the commands, run and write nothing.
        environment (dict, optional): What the record's ``environment``
            holds beyond :func:`.records.environment` (the GPU, ...).
        rerun_hint (str, optional): What a refused rerun is told to do
            (default: a new arm or another work root).
    """

    def __init__(self,
                 root: str,
                 repo: str,
                 name: str,
                 threads: int = 1,
                 jobs: int = 1,
                 nice: int = 0,
                 dry_run: bool = False,
                 environment: Optional[dict] = None,
                 rerun_hint: Optional[str] = None):
        self.root = osp.abspath(root)
        self.repo = repo
        self.name = name
        self.threads, self.jobs, self.nice = threads, jobs, nice
        self.dry_run = dry_run
        self.extra_environment = dict(environment or {})
        self.rerun_hint = rerun_hint or (
            'Give the new settings a new arm (--variant NAME ...) or '
            'another --work-root; or move the old work dir away to retrain.')
        self.record_path = osp.join(self.root, 'protocol.json')
        self.events_path = osp.join(self.root, 'events.jsonl')
        self.lock = DirLock(
            self.root,
            name='protocol.lock',
            what='protocol work root',
            hint='wait for that protocol to finish (it runs the same '
            'stages), or give this one another --work-root')
        self._write = threading.Lock()
        self.stages: Dict[str, Stage] = {}
        # checkpoints from outside (a user's trained baseline), by the name
        # stages give them as inputs
        self.external: Dict[str, str] = {}
        self.record: dict = {}
        self._configs: dict = {}
        self._code: Optional[dict] = None

    # ------------------------------------------------------------ record
    def open(self, invocation: dict) -> None:
        """Take the work root and load the record (start of a run)."""
        if not self.dry_run:
            self.lock.acquire()
        self.t0 = time.time()
        self.record = {}
        try:
            if osp.isfile(self.record_path):
                self.record = read_record(self.record_path)
        except BaseException:
            self.close()
            raise
        self.record.setdefault('stages', {})
        self._mark_interrupted()
        self.record['protocol'] = self.name
        if 'precision' in invocation:  # until a stage says (save())
            self.record.setdefault('precision', invocation['precision'])
        self.environment = environment(self.repo)
        self.environment.update(jobs=self.jobs, nice=self.nice)
        self.environment.update(self.extra_environment)
        # threads_per_run: what the stages ran with (save()), not what
        # this invocation asks for
        old = self.record.get('environment', {})
        self.record['environment'] = dict(self.environment)
        if 'threads_per_run' in old:
            self.record['environment']['threads_per_run'] = \
                old['threads_per_run']
        invocation = dict(
            invocation, environment=self.environment, threads=self.threads)
        invocation['start'] = time.strftime('%Y-%m-%dT%H:%M:%S')
        if getattr(self.lock, 'replaced', None):
            invocation['replaced_stale_lock'] = self.lock.replaced
        self.record.setdefault('invocations', []).append(invocation)
        self.event('invocation', **invocation)
        self.save()

    def _mark_interrupted(self) -> None:
        """Attempts still "running" on the record were killed with the run
        that started them (this one holds the work root's lock now): mark
        them interrupted, their wall time up to their log's last write."""
        for name, stage in self.record['stages'].items():
            for kind in ('train', 'test'):
                for a in stage.get(f'{kind}_attempts', []):
                    if a.get('status') != 'running':
                        continue
                    a.update(status='interrupted', rc=None)
                    log = a.get('log', '')
                    if osp.isfile(log):
                        began = calendar.timegm(
                            time.strptime(a['start'], '%Y-%m-%dT%H:%M:%S'))
                        a['wall_s'] = round(
                            max(0.,
                                osp.getmtime(log) - began), 1)
                    self.event('interrupted', stage=name, log=log)

    def close(self) -> None:
        self.lock.release()

    def save(self) -> None:
        if self.dry_run:
            return
        with self._write:
            # what the stages ran with, not what this invocation asked for
            # (a refused rerun with other --threads or --amp changes nothing)
            idents = [
                i for st in self.record['stages'].values()
                for i in (st.get('identity'), st.get('test_identity')) if i
            ]
            threads = sorted({i['threads'] for i in idents if 'threads' in i})
            if threads:
                self.record['environment']['threads_per_run'] = \
                    threads[0] if len(threads) == 1 else threads
            precision = sorted(
                {i['precision']
                 for i in idents if 'precision' in i})
            if precision:
                self.record['precision'] = ', '.join(precision)
            write_record(self.record, self.record_path, indent=1)

    def event(self, kind: str, **fields) -> None:
        """Append one line to ``events.jsonl`` (never rewritten)."""
        if self.dry_run:
            return
        line = json.dumps(
            dict(
                time=time.strftime('%Y-%m-%dT%H:%M:%S'), event=kind, **fields))
        with self._write, open(self.events_path, 'a') as f:
            f.write(line + '\n')

    # ------------------------------------------------------------ stages
    def add(self, stage: Stage) -> Stage:
        if stage.name in self.stages:
            raise ValueError(f'two stages named {stage.name}')
        self.stages[stage.name] = stage
        return stage

    def add_test(self, name: str, config: str, options: List[str]) -> Stage:
        """The test stage of train stage ``name`` (added right after it, so
        that a partial run already has tested results)."""
        return self.add(
            Stage(f'{name}/test', 'test', config, options,
                  {'checkpoint': name}))

    def work_dir(self, stage: Stage) -> str:
        if stage.kind == 'test':
            return osp.join(self.root, stage.inputs['checkpoint'], 'test')
        return osp.join(self.root, stage.name)

    def checkpoint(self, name: str) -> str:
        """The final checkpoint of a train stage (or an external one)."""
        if name in self.external:
            return self.external[name]
        return osp.join(
            self.root, name,
            'iter_{}.pth'.format(self.max_iters(self.stages[name])))

    def _input_options(self, stage: Stage) -> List[str]:
        """The options that point the stage at its input checkpoints."""
        out = []
        for role, src in sorted(stage.inputs.items()):
            ckpt = self.checkpoint(src)
            if role == 'load_from':
                out.append(f'load_from={ckpt}')
            elif role in ('generator', 'discriminator'):
                out += [
                    f'model.{role}.init_cfg.type=Pretrained',
                    f'model.{role}.init_cfg.checkpoint={ckpt}',
                    f'model.{role}.init_cfg.prefix={role}.'
                ]
        return out

    def options(self, stage: Stage) -> List[str]:
        return stage.options + self._input_options(stage)

    def resolved_config(self, stage: Stage):
        """The config as the stage's command will see it."""
        key = (stage.name, tuple(self.options(stage)))
        if key not in self._configs:
            self._configs[key] = self._resolve(stage)
        return self._configs[key]

    def _resolve(self, stage: Stage):
        from seggan_launch import load_config
        options = parse_options(self.options(stage))
        with CONFIG_LOCK:
            cfg = load_config(
                osp.join(self.repo, stage.config), options,
                self.work_dir(stage))
        # what tools/train.py and tools/test.py set before the Runner
        # dumps the config
        if stage.kind == 'test':
            cfg.load_from = self.checkpoint(stage.inputs['checkpoint'])
        else:
            if '--amp' in stage.flags:
                from mmseg_seggan.engine.hooks import enable_amp
                enable_amp(cfg)
            cfg.resume = False
        return cfg

    def max_iters(self, stage: Stage) -> int:
        return int(self.resolved_config(stage).train_cfg.max_iters)

    def _normalise(self, text: str, stage: Stage) -> str:
        """A config text without the machine's paths (root, repo)."""
        return text.replace(self.work_dir(stage), '<work_dir>').replace(
            self.root, '<root>').replace(self.repo, '<repo>')

    def code(self) -> dict:
        """The code identity of every stage (computed once)."""
        if self._code is None:
            self._code = code_digest(self.repo)
        return self._code

    def identity(self, stage: Stage) -> dict:
        """Everything that can change the stage's result, and its
        fingerprint: config, flags, threads, precision, input checkpoints,
        data (a training stage's training set, a test stage's test set)
        and code."""
        cfg = self.resolved_config(stage)
        text = self._normalise(cfg.pretty_text, stage)
        inputs = {}
        for role, src in sorted(stage.inputs.items()):
            ckpt = self.checkpoint(src)
            inputs[role] = dict(
                stage=src,
                sha256=sha256_of(ckpt) if osp.isfile(ckpt) else None)
        loader = f'{stage.kind}_dataloader'
        data = None
        if not self.dry_run:  # (a dry run's data may not exist yet)
            with CONFIG_LOCK:  # builds datasets: one thread at a time
                data = data_digest(cfg, loader)
        spec = dict(
            kind=stage.kind,
            config=self._normalise(stage.config, stage),
            flags=stage.flags,
            config_sha256=hashlib.sha256(text.encode()).hexdigest(),
            inputs=inputs,
            threads=self.threads,
            data={loader: data},
            code=self.code())
        if stage.kind == 'train':
            spec['precision'] = precision_of(cfg)
        spec['fingerprint'] = hashlib.sha256(
            json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]
        return dict(spec=spec, config_text=text)

    def _check_identity(self, stage: Stage, ident: dict) -> dict:
        """Compare with the work dir's ``stage.json``: the same stage, a
        test to run again, an adopted work dir, or a refusal."""
        work = self.work_dir(stage)
        path = osp.join(work, STAGE_FILE)
        if osp.isfile(path):
            with open(path) as f:
                old = json.load(f)
            o, n = old['spec'], ident['spec']
            if o['fingerprint'] == n['fingerprint']:
                return old
            if 'code' not in o and all(
                    o.get(k) == n.get(k) for k in LEGACY_KEYS):
                # written before identities covered data, code and threads:
                # what it recorded agrees; the rest is taken as it is now
                print(
                    f'[{self.name}] {stage.name}: its {STAGE_FILE} predates '
                    'data, code and thread identities; recorded as they '
                    'are now (not verified)',
                    flush=True)
                old.update(spec=n, legacy_identity=True)
                if not self.dry_run:
                    self._write_stage_file(stage, old)
                return old
            if stage.kind != 'test':
                raise StageMismatchError(
                    self._mismatch(stage, old, ident, path))
            why = '; '.join(self._differences(o, n))
            print(
                f'[{self.name}] {stage.name}: tested again, its inputs '
                f'changed ({why})',
                flush=True)
            rec = dict(
                name=stage.name,
                spec=n,
                created=time.strftime('%Y-%m-%dT%H:%M:%S'),
                retested_because=why)
            if not self.dry_run:
                self._write_stage_file(stage, rec)
            return rec
        entries = [
            e for e in (os.listdir(work) if osp.isdir(work) else [])
            if e != 'test'
        ]
        dump = osp.join(work, osp.basename(stage.config))
        adopted = False
        if entries:
            if not osp.isfile(dump):
                raise StageMismatchError(
                    f'{work} holds files ({", ".join(sorted(entries)[:5])}) '
                    f'but no {STAGE_FILE}: the protocol cannot tell which '
                    f'stage they belong to, so it will not count them as '
                    f'stage {stage.name}. Move the folder away (or delete '
                    'it) to run the stage, or use another --work-root.')
            with open(dump) as f:
                text = self._normalise(f.read(), stage)
            if text != ident['config_text']:
                raise StageMismatchError(
                    f'{work} was trained with another config than stage '
                    f'{stage.name} asks for:\n' +
                    _diff(text, ident['config_text']) +
                    '\nMove it away (or delete it) to retrain, or use '
                    'another --work-root.')
            adopted = True
        rec = dict(
            name=stage.name,
            spec=ident['spec'],
            created=time.strftime('%Y-%m-%dT%H:%M:%S'),
            adopted_from_config_dump=adopted)
        if not self.dry_run:
            os.makedirs(work, exist_ok=True)
            with open(osp.join(work, 'stage_config.py'), 'w') as f:
                f.write(ident['config_text'])
            self._write_stage_file(stage, rec)
        return rec

    def _write_stage_file(self, stage: Stage, rec: dict) -> None:
        path = osp.join(self.work_dir(stage), STAGE_FILE)
        tmp = path + '.tmp'
        with open(tmp, 'w') as f:
            json.dump(rec, f, indent=1)
        os.replace(tmp, path)

    def _mismatch(self, stage: Stage, old: dict, new: dict, path: str) -> str:
        lines = [
            f'Stage {stage.name} in {self.work_dir(stage)} was run with '
            f'other settings than this invocation asks for ({path}):'
        ]
        o, n = old['spec'], new['spec']
        lines += ['  ' + d for d in self._differences(o, n)]
        if o['config_sha256'] != n['config_sha256']:
            cfg_path = osp.join(self.work_dir(stage), 'stage_config.py')
            old_text = ''
            if osp.isfile(cfg_path):
                with open(cfg_path) as f:
                    old_text = f.read()
            lines.append(_diff(old_text, new['config_text']))
        lines.append(
            'Its results belong to those settings and are not reused under '
            'these. ' + self.rerun_hint)
        return '\n'.join(lines)

    @staticmethod
    def _differences(o: dict, n: dict) -> List[str]:
        """What differs between two identities, one line each (the config
        text's diff aside)."""
        lines = [
            f'{key}: {o.get(key)} -> {n.get(key)}'
            for key in ('kind', 'config', 'flags', 'threads', 'precision')
            if o.get(key) != n.get(key)
        ]
        for role in sorted(set(o['inputs']) | set(n['inputs'])):
            a, b = o['inputs'].get(role), n['inputs'].get(role)
            if a != b:
                lines.append(f'input {role}: {a} -> {b}')
        od, nd = o.get('data') or {}, n.get('data') or {}
        for loader in sorted(set(od) | set(nd)):
            a, b = od.get(loader), nd.get(loader)
            if a != b:
                lines.append(
                    f'data of {loader}: {_files(a)} -> {_files(b)} (an '
                    'image, mask or split file was changed, added or '
                    'removed)')
        oc, nc = o.get('code') or {}, n.get('code') or {}
        for key in sorted(set(oc) | set(nc)):
            if oc.get(key) != nc.get(key):
                lines.append(f'code {key}: {_short(oc.get(key))} -> '
                             f'{_short(nc.get(key))}')
        if o['config_sha256'] != n['config_sha256']:
            lines.append('the config differs:')
        return lines

    # ------------------------------------------------------------ running
    def run_cmd(self, stage: Stage, cmd: List[str], log: str) -> dict:
        """Run one command, its output into ``log``; raise on failure."""
        env = dict(os.environ)
        env.update(
            OMP_NUM_THREADS=str(self.threads),
            MKL_NUM_THREADS=str(self.threads),
            PYTHONWARNINGS='ignore')
        line = ' '.join(shlex.quote(c) for c in cmd)
        print(f'[{self.name}] {stage.name}: {line}', flush=True)
        if self.dry_run:
            return dict(cmd=line, dry_run=True)
        nice = self.nice
        start = time.time()
        # on the record before it runs: a run killed mid-stage (a session
        # that ends) leaves it "running", and the next run marks it
        # interrupted (open()) instead of losing the attempt and its time
        attempt = dict(
            cmd=line,
            log=log,
            status='running',
            start=time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(start)),
            # which invocation ran it, and when after that one began
            invocation=len(self.record['invocations']),
            offset_s=round(start - self.t0, 1),
            threads=self.threads,
            git_commit=self.environment.get('git_commit', ''))
        rec = self.record['stages'][stage.record_name]
        rec.setdefault(f'{stage.kind}_attempts', []).append(attempt)
        self.save()
        self.event('start', stage=stage.name, cmd=line, log=log)
        with open(log, 'w') as out:
            proc = subprocess.run(
                cmd,
                cwd=self.repo,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=(lambda: os.nice(nice)) if nice else None)
        wall = time.time() - start
        attempt.update(
            rc=proc.returncode,
            wall_s=round(wall, 1),
            status='done' if proc.returncode == 0 else 'failed')
        self.event(
            'end',
            stage=stage.name,
            rc=proc.returncode,
            wall_s=attempt['wall_s'])
        self.save()
        if proc.returncode != 0:
            with open(log) as f:
                tail = f.read()[-3000:]
            raise RuntimeError(
                f'Stage {stage.name} failed (exit {proc.returncode}) after '
                f'{wall:.0f} s; command:\n  {line}\nlog: {log}\n...{tail}')
        return attempt

    @staticmethod
    def _next_log(work: str, kind: str) -> str:
        n = 1
        while osp.exists(osp.join(work, f'{kind}-{n}.out')):
            n += 1
        return osp.join(work, f'{kind}-{n}.out')

    def execute(self, stage: Stage) -> None:
        stage.record_name = stage.name if stage.kind == 'train' else \
            stage.inputs['checkpoint']
        ident = self.identity(stage)
        stage_rec = self._check_identity(stage, ident)
        work = self.work_dir(stage)
        rec = self.record['stages'].setdefault(stage.record_name, {})
        if stage.kind == 'train':
            self._train(stage, rec, stage_rec, work)
        else:
            self._test(stage, rec, stage_rec, work)
        self.save()

    def _train(self, stage: Stage, rec: dict, stage_rec: dict,
               work: str) -> None:
        cfg = self.resolved_config(stage)
        ckpt = osp.join(work, f'iter_{cfg.train_cfg.max_iters}.pth')
        rec.update(
            config=stage.config,
            seed=stage.seed,
            max_iters=int(cfg.train_cfg.max_iters),
            checkpoint=ckpt,
            work_dir=work,
            identity=stage_rec['spec'],
            config_dump=osp.join(work, osp.basename(stage.config)),
            **stage.info)
        if stage_rec.get('adopted_from_config_dump'):
            rec['adopted_from_config_dump'] = True
        if osp.isfile(ckpt) and osp.isfile(osp.join(work, 'last_checkpoint')):
            print(f'[{self.name}] {stage.name}: done ({ckpt})', flush=True)
        else:
            options = self.options(stage)
            cmd = [
                sys.executable, 'tools/train.py', stage.config, '--work-dir',
                work
            ] + stage.flags
            if osp.isfile(osp.join(work, 'last_checkpoint')):
                # mmengine resumes *from load_from* when both are given,
                # i.e. from the previous stage's weights: drop it so the
                # run resumes from its own last checkpoint.
                cmd.append('--resume')
                options = [
                    o for o in options if not o.startswith('load_from=')
                ]
            cmd += ['--cfg-options'] + options
            if not self.dry_run:
                os.makedirs(work, exist_ok=True)
            self.run_cmd(stage, cmd, self._next_log(work, 'train'))
        if not self.dry_run:
            rec['sha256'] = sha256_of(ckpt)
            written = stage_rec.get('output_sha256')
            if written is None:
                stage_rec['output_sha256'] = rec['sha256']
                self._write_stage_file(stage, stage_rec)
            elif written != rec['sha256']:
                raise StageMismatchError(
                    f'{ckpt} of stage {stage.name} changed since the stage '
                    f'wrote it (SHA-256 {written[:12]}... then, '
                    f'{rec["sha256"][:12]}... now): the stages built on it '
                    'would start from another model than their records '
                    'say. Restore the file, or move the stage\'s work dir '
                    'away to retrain it.')
            rec['scalars'] = sorted(
                osp.join(work, d, 'vis_data', 'scalars.json')
                for d in os.listdir(work)
                if osp.isfile(osp.join(work, d, 'vis_data', 'scalars.json')))

    def _test(self, stage: Stage, rec: dict, stage_rec: dict,
              work: str) -> None:
        done = osp.join(work, 'metrics.json')
        written = stage_rec.get('output_sha256')
        if osp.isfile(done) and (written is None
                                 or sha256_of(done) != written):
            # not the output of this identity's test (an older identity's,
            # or edited by hand): kept aside, and the test runs again
            n = 1
            while osp.exists(osp.join(work, f'metrics-set-aside-{n}.json')):
                n += 1
            aside = osp.join(work, f'metrics-set-aside-{n}.json')
            if written is not None:
                print(
                    f'[{self.name}] {stage.name}: {done} was changed after '
                    f'the test wrote it; tested again (the changed file: '
                    f'{aside})',
                    flush=True)
                stage_rec['retested_because'] = 'metrics.json was edited'
            if not self.dry_run:
                os.replace(done, aside)
        if not osp.isfile(done):
            ckpt = self.checkpoint(stage.inputs['checkpoint'])
            cmd = [
                sys.executable, 'tools/test.py', stage.config, ckpt,
                '--work-dir', work
            ]
            if stage.options:
                cmd += ['--cfg-options'] + stage.options
            if not self.dry_run:
                os.makedirs(work, exist_ok=True)
            self.run_cmd(stage, cmd, self._next_log(work, 'test'))
            if self.dry_run:
                return
            metrics = read_test_metrics(work)
            metrics['identity'] = stage_rec['spec']
            with open(done + '.tmp', 'w') as f:
                json.dump(metrics, f, indent=1)
            os.replace(done + '.tmp', done)
            stage_rec['output_sha256'] = sha256_of(done)
            self._write_stage_file(stage, stage_rec)
        if self.dry_run:
            return
        with open(done) as f:
            metrics = json.load(f)
        metrics.pop('identity', None)
        rec['metrics'] = metrics
        rec['test_identity'] = stage_rec['spec']
        if stage_rec.get('retested_because'):
            rec['retested_because'] = stage_rec['retested_because']

    def run_all(self, order: Optional[List[str]] = None) -> None:
        """Run every stage whose inputs are done, ``jobs`` at a time.

        Ready stages start in ``order`` (default: the order they were
        added). The first failure stops new starts; running stages finish,
        then it is raised.
        """
        pending = [self.stages[n] for n in (order or list(self.stages))]
        done, running, failed = set(self.external), set(), []
        cond = threading.Condition()

        def worker() -> None:
            while True:
                with cond:
                    while True:
                        if failed:
                            return
                        ready = [
                            s for s in pending
                            if all(d in done for d in s.deps)
                        ]
                        if ready:
                            stage = ready[0]
                            pending.remove(stage)
                            running.add(stage.name)
                            break
                        if not pending:
                            return
                        if not running:
                            failed.append(
                                RuntimeError('stages wait for inputs that '
                                             'no stage makes: ' +
                                             ', '.join(s.name
                                                       for s in pending)))
                            cond.notify_all()
                            return
                        cond.wait()
                try:
                    self.execute(stage)
                except BaseException as exc:  # noqa: B902 (re-raised below)
                    with cond:
                        failed.append(exc)
                        running.discard(stage.name)
                        cond.notify_all()
                    return
                with cond:
                    running.discard(stage.name)
                    done.add(stage.name)
                    cond.notify_all()

        threads = [
            threading.Thread(target=worker, daemon=True)
            for _ in range(max(1, self.jobs if not self.dry_run else 1))
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if failed:
            raise failed[0]


def _short(value) -> str:
    """A digest cut to 12 characters; versions as they are."""
    if isinstance(value, str) and len(value) == 64:
        return value[:12] + '...'
    return 'not recorded' if value is None else str(value)


def _files(data: Optional[dict]) -> str:
    if not data:
        return 'not recorded'
    return f'{data["files"]} files {data["sha256"][:12]}...'


def _diff(old: str, new: str, limit: int = 20) -> str:
    lines = [
        line for line in difflib.unified_diff(
            old.splitlines(), new.splitlines(), 'old', 'new', lineterm='', n=0)
        if not line.startswith(('---', '+++', '@@'))
    ]
    more = f'\n    ... ({len(lines) - limit} more lines)' \
        if len(lines) > limit else ''
    return '\n'.join('    ' + line for line in lines[:limit]) + more


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """The options of every protocol driver: overrides and how runs run."""
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        help='KEY=VALUE overrides of every train.py / test.py call')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='train every stage with --amp (bf16 on a CPU); recorded')
    parser.add_argument(
        '--threads',
        type=int,
        default=1,
        help='OMP/MKL threads per run (default 1: on a '
        'shared CPU two 1-thread runs beat one 2-thread run)')
    parser.add_argument(
        '--jobs', type=int, default=1, help='stages run at once (default 1)')
    parser.add_argument(
        '--nice', type=int, default=0, help='niceness of the runs')
    parser.add_argument(
        '--dry-run',
        action='store_true',
        help='print the commands, run and write nothing')


def protocol_from_args(args: argparse.Namespace,
                       root: str,
                       repo: str,
                       name: str,
                       argv: Optional[List[str]] = None,
                       **kwargs) -> tuple:
    """The :class:`Protocol` of a driver's parsed options (``kwargs`` go
    to it) and the part of its invocation record every driver writes."""
    protocol = Protocol(
        root,
        repo,
        name,
        threads=args.threads,
        jobs=args.jobs,
        nice=args.nice,
        dry_run=args.dry_run,
        **kwargs)
    invocation = dict(
        cmd=' '.join(
            shlex.quote(x) for x in [sys.executable] + (argv or sys.argv)),
        seeds=dict(base=args.base_seed, gans=args.gan_seeds, arms=args.seeds),
        cfg_options=args.cfg_options,
        precision='bf16 (--amp)' if args.amp else 'fp32')
    return protocol, invocation


def run_protocol(protocol: Protocol, build: Callable[[Protocol], None],
                 invocation: dict, finish: Callable[[Protocol], None]) -> dict:
    """Open the work root, build and run the stages, summarise, close."""
    protocol.open(invocation)  # (releases the root itself if it fails)
    try:
        build(protocol)
        protocol.run_all()
        if not protocol.dry_run:
            finish(protocol)
    finally:
        protocol.close()
    return protocol.record
