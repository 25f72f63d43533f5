"""A Ray head node on this machine for the Ray executor's tests and benchmark: what
``ray start --head`` does on a cluster's first node, with fake GPUs where asked (Ray only
counts them; the trials see their ids in ``CUDA_VISIBLE_DEVICES``)."""
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from typing import Iterator

from mmautoloss.search.executors.gpu_slots import find_free_port

#: how long ``ray start`` may take on a loaded 2-core machine
START_TIMEOUT_S = 120


@contextlib.contextmanager
def ray_head(num_cpus: int, num_gpus: int = 0) -> Iterator[str]:
    """Start a Ray head node in its own session and yield its address; stop it and every
    process it started afterwards."""
    port = find_free_port()
    # a head on this machine for tests: no token authentication (the clients are local)
    env = dict(os.environ, RAY_AUTH_MODE='disabled')
    env.pop('RAY_ADDRESS', None)
    cmd = [sys.executable, '-c', 'from ray.scripts.scripts import main; main()', 'start',
           '--head', f'--port={port}', f'--num-cpus={num_cpus}', f'--num-gpus={num_gpus}',
           '--include-dashboard=false', '--disable-usage-stats', '--block']
    with tempfile.TemporaryFile() as log:
        head = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            _wait_until_up(head, log)
            yield f'127.0.0.1:{port}'
        finally:
            os.killpg(head.pid, signal.SIGTERM)  # --block: stops the node's processes
            try:
                head.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(head.pid, signal.SIGKILL)
                head.wait()


def _wait_until_up(head: subprocess.Popen, log) -> None:
    """Until ``ray start`` reports the node started (``RuntimeError`` with its output if it
    exits or takes longer than :data:`START_TIMEOUT_S`)."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        log.seek(0)
        output = log.read().decode(errors='replace')
        if 'Ray runtime started' in output:
            return
        if head.poll() is not None:
            raise RuntimeError(f'ray start exited with {head.returncode}: {output[-3000:]}')
        time.sleep(0.2)
    raise RuntimeError(f'ray start did not report the node started in {START_TIMEOUT_S} s')
