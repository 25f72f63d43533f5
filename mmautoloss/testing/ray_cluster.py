"""Ray nodes on this machine for the Ray executor's tests: a head (``ray start --head``, as
on a cluster's first node) with fake GPUs where asked (Ray only counts them; the trials see
their ids in ``CUDA_VISIBLE_DEVICES``), and more nodes joined to it that a test can kill."""
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

from mmautoloss.search.executors.processes.gpu_slots import find_free_port

#: how long ``ray start`` may take on a loaded 2-core machine
START_TIMEOUT_S = 120


@contextlib.contextmanager
def ray_head(num_cpus: int, num_gpus: int = 0) -> Iterator[str]:
    """Start a Ray head node and yield its address; stop it and every process it started
    afterwards."""
    port = find_free_port()
    with _ray_start(['--head', f'--port={port}', f'--num-cpus={num_cpus}',
                     f'--num-gpus={num_gpus}', '--include-dashboard=false']):
        yield f'127.0.0.1:{port}'


@contextlib.contextmanager
def ray_node(address: str, num_cpus: int) -> Iterator[subprocess.Popen]:
    """Join one more node (its own raylet, on this machine) to the cluster at ``address``;
    yields its ``ray start`` process, the leader of the node's session (SIGKILL that
    session to make the node die)."""
    with _ray_start([f'--address={address}', f'--num-cpus={num_cpus}']) as node:
        yield node


@contextlib.contextmanager
def _ray_start(args: list) -> Iterator[subprocess.Popen]:
    # a node on this machine for tests: no token authentication (the clients are local)
    env = dict(os.environ, RAY_AUTH_MODE='disabled')
    env.pop('RAY_ADDRESS', None)
    cmd = [sys.executable, '-c', 'from ray.scripts.scripts import main; main()', 'start',
           *args, '--disable-usage-stats', '--block']
    with tempfile.TemporaryFile() as log:
        node = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            _wait_until_up(node, log)
            yield node
        finally:
            try:
                os.killpg(node.pid, signal.SIGTERM)  # --block: stops the node's processes
                node.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(node.pid, signal.SIGKILL)
                node.wait()
            except ProcessLookupError:  # the test killed the node
                node.wait()


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
