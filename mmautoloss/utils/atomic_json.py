"""JSON files that are replaced atomically, so that a reader or a crash never sees half of one.

Shared by the trial jobs' hooks (``metrics.json``, the NaN marker) and the search driver
(searcher snapshots, ``best.json``): the content goes to a temporary file in the same
directory, is fsync'd, and replaces the old file with ``os.replace``.
"""
import json
import os
import os.path as osp
import tempfile


def _fsync_dir(path: str) -> None:
    fd = os.open(osp.dirname(osp.abspath(path)) or '.', os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json_atomic(path: str, obj: object) -> None:
    """Replace ``path`` with ``obj`` as JSON atomically (tmp file + fsync + os.replace)."""
    directory = osp.dirname(osp.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp_path = tempfile.mkstemp(prefix=osp.basename(path) + '.', suffix='.tmp',
                                    dir=directory)
    try:
        os.chmod(tmp_path, 0o644)  # mkstemp creates 0600; a snapshot is a normal file
        with os.fdopen(fd, 'w', encoding='utf-8') as f:
            json.dump(obj, f, indent=2, sort_keys=True)
            f.write('\n')
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_path, path)
    except BaseException:
        if osp.exists(tmp_path):
            os.remove(tmp_path)
        raise
    _fsync_dir(path)


def read_json(path: str) -> object:
    with open(path, encoding='utf-8') as f:
        return json.load(f)
