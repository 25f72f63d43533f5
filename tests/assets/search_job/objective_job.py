"""A deterministic stand-in for a proxy training job, used by the search tests.

Called by the executor as ``python objective_job.py CONFIG --work-dir DIR``. It reads the
searched loss parameters from the derived config (``params`` of the loss at the config key
named by ``$OBJ_KEY``, default ``model.decode_head.loss_decode``) and writes
``metrics.json`` with ``{$OBJ_REWARD_KEY: 1 - mean|params - 0.3|}``: a hidden optimum at
0.3 in every dimension. A formula loss (``formula`` instead of ``params``) is rewarded with
the CRC-32 of its formula string scaled to [0, 1). Environment:

  OBJ_FAULTS   JSON {trial_id: 'crash' | 'hang' | 'nan'}: exit 3 / sleep forever /
               write the NaN-loss marker of NonFiniteLossHook and exit 1
  OBJ_COUNTER  file to which '<trial_id>\n' is appended when the job finishes
  OBJ_SLEEP    seconds to sleep before finishing
  OBJ_SLEEPS   JSON {trial_id: seconds} overriding OBJ_SLEEP per trial
  OBJ_SEED_NOISE   x: add x * (seed % 3 - 1) for the config's randomness.seed
  OBJ_LR_BEST  JSON {split: lr}: subtract 0.05 * |log2(lr / best)| for the config's
               optim_wrapper.optimizer.lr, ``best`` looked up by the ``split`` named in its
               val_dataloader.dataset (a tuned learning rate depends on the split)
  OBJ_VALIDATIONS  N: before finishing, report N validations to metrics_history.jsonl (as
               MetricsDumpHook does), the v-th with reward * v / N, OBJ_VAL_SLEEP seconds
               apart (for early stopping)
"""
import json
import os
import sys
import time
import zlib

config_path, work_dir = sys.argv[1], sys.argv[sys.argv.index('--work-dir') + 1]
trial_id = os.path.basename(os.path.normpath(work_dir))
namespace: dict = {}
with open(config_path, encoding='utf-8') as f:
    exec(f.read(), namespace)  # the config is plain python written by mmengine Config.dump
loss = namespace
for part in os.environ.get('OBJ_KEY', 'model.decode_head.loss_decode').split('.'):
    loss = loss[part]
if 'formula' in loss:
    reward = zlib.crc32(loss['formula'].encode()) / 2 ** 32
else:
    params = loss['params']
    reward = 1.0 - sum(abs(p - 0.3) for p in params) / len(params)

# OBJ_SEED_NOISE: seeds s = 0, 1, 2 (mod 3) move the reward by -noise, 0, +noise, so the
# mean over three consecutive seeds is the noiseless reward
seed = (namespace.get('randomness') or {}).get('seed', 0)
reward += float(os.environ.get('OBJ_SEED_NOISE', '0')) * (seed % 3 - 1)
lr_best = json.loads(os.environ.get('OBJ_LR_BEST', '{}'))
if lr_best:
    import math
    split = namespace['val_dataloader']['dataset']['split']
    lr = namespace['optim_wrapper']['optimizer']['lr']
    reward -= 0.05 * abs(math.log2(lr / lr_best[split]))
fault = json.loads(os.environ.get('OBJ_FAULTS', '{}')).get(trial_id)
time.sleep(json.loads(os.environ.get('OBJ_SLEEPS', '{}')).get(
    trial_id, float(os.environ.get('OBJ_SLEEP', '0'))))
validations = int(os.environ.get('OBJ_VALIDATIONS', '0'))
for v in range(1, validations + 1):
    time.sleep(float(os.environ.get('OBJ_VAL_SLEEP', '0')))
    line = json.dumps(dict(iter=v, epoch=0, metrics={
        os.environ.get('OBJ_REWARD_KEY', 'mIoU'): reward * v / validations}))
    with open(os.path.join(work_dir, 'metrics_history.jsonl'), 'a') as f:
        f.write(line + '\n')
if fault == 'crash':
    print('simulated crash', flush=True)
    sys.exit(3)
if fault == 'hang':
    time.sleep(600)
if fault == 'nan':
    with open(os.path.join(work_dir, 'nonfinite.json'), 'w') as f:
        json.dump(dict(iter=2, loss='nan'), f)
    sys.exit(1)
with open(os.path.join(work_dir, 'metrics.json'), 'w') as f:
    json.dump({os.environ.get('OBJ_REWARD_KEY', 'mIoU'): reward, 'aAcc': 0.5}, f)
if os.environ.get('OBJ_COUNTER'):
    with open(os.environ['OBJ_COUNTER'], 'a') as f:
        f.write(trial_id + '\n')
