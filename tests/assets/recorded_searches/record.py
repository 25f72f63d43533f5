"""Record the searches of this folder: ``python tests/assets/recorded_searches/record.py``
from the repository root (``python3`` must run the objective job, a stdlib script).

Each search ``<name>/search.py`` runs with ``tools/search.py`` from this folder as the
working directory (every path in its config is relative to it, so the fingerprint is the
same on every machine) into ``<name>/work_dir``; the trial directories and plots are then
dropped and the journal, ``state.json``, ``best.json``, ``best_config.py`` and
``report.md`` are kept. ``tests/test_search/test_recorded_searches.py`` resumes and
re-draws them with the code of today: a change of the engine that changes what it writes or
how it reads a recorded search fails there. Recorded at commit adc62b3 (before the engine's
nouns moved to ``search/errors.py`` / ``search/structures.py``); ``cse_generations``
re-recorded for issue 24 (its search names the primitive set ``'cse-release'``, the old
``'cse'``, now the paper's leaves only, and CSE's stage rows gained ``diverged``; the
decisions and rewards are those of the first recording); the ``report.md`` of
``asl_ppo2_seeds_retrain`` re-drawn from its journal for issue 25 (the paired differences
by seed), and its ``retrain_start`` line given the ``same_split`` field a search writes
today (both its targets validate on the proxy's images). Re-record only for a deliberate
change of the on-disk formats, and say so in the commit.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
SEARCHES = ('asl_ppo2_seeds_retrain', 'cse_generations')
KEPT = ('journal.jsonl', 'state.json', 'best.json', 'best_config.py', 'report.md')


def record(name: str) -> None:
    work_dir = HERE / name / 'work_dir'
    shutil.rmtree(work_dir, ignore_errors=True)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO),
                                                        os.environ.get('PYTHONPATH', '')]),
               OBJ_SLEEP='0', OMP_NUM_THREADS='1', **ENV.get(name, {}))
    subprocess.run([sys.executable, str(REPO / 'tools' / 'search.py'), f'{name}/search.py',
                    '--work-dir', f'{name}/work_dir'], cwd=HERE, env=env, check=True)
    for path in work_dir.iterdir():
        if path.name not in KEPT:
            shutil.rmtree(path) if path.is_dir() else path.unlink()


#: the objective job's environment per search (which loss key it reads, which reward key
#: it writes, reward noise per seed)
ENV = dict(asl_ppo2_seeds_retrain=dict(OBJ_SEED_NOISE='0.01'),
           cse_generations=dict(OBJ_KEY='model.roi_head.bbox_head.loss_cls',
                                OBJ_REWARD_KEY='coco/bbox_mAP'))

if __name__ == '__main__':
    for search in sys.argv[1:] or SEARCHES:
        record(search)
