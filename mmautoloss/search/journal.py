"""Crash-safe record of a search: an append-only JSONL journal and atomic JSON snapshots.

Every journal line is one event (``search_start``, ``round_start``, ``trial``, ``round_end``,
``search_end``). Each append is flushed and fsync'd before the call returns, so a finished
trial that reached the journal survives a SIGKILL or power loss. A process killed while
writing can leave a torn last line; :func:`read_journal` ignores it and
:meth:`Journal.__init__` cuts it off before appending, so the file stays valid JSONL.
Snapshots (the searcher state at the start of a round) are replaced atomically with
:func:`~mmautoloss.utils.atomic_json.write_json_atomic`.
"""
import json
import os
import os.path as osp


def read_journal(path: str) -> list[dict]:
    """Events of a journal, in order. A torn last line (no terminating newline: its append
    never returned) is dropped; a corrupt complete line raises ``ValueError`` naming its
    line number."""
    if not osp.isfile(path):
        return []
    with open(path, 'rb') as f:
        data = f.read()
    lines = data.split(b'\n')
    lines.pop()  # b'' when the file ends with a newline, else a torn (unacknowledged) line
    events = []
    for number, line in enumerate(lines, start=1):
        try:
            event = json.loads(line)
        except ValueError as error:
            raise ValueError(f'journal {path!r} line {number} is not valid JSON: {error}') \
                from error
        if not isinstance(event, dict) or 'event' not in event:
            raise ValueError(f'journal {path!r} line {number} is not an event object')
        missing = _missing_fields(event)
        if missing:
            raise ValueError(f'journal {path!r} line {number}: a {event["event"]!r} event '
                             f'without {missing}')
        events.append(event)
    return events


#: fields each event needs for a search to resume from the journal
REQUIRED_FIELDS = dict(round_start=('round', 'candidates'), round_end=('round', ),
                       trial=('round', 'candidate', 'result'))
REQUIRED_RESULT_FIELDS = ('trial_id', 'status', 'reward')


def _missing_fields(event: dict) -> list:
    missing = [k for k in REQUIRED_FIELDS.get(event['event'], ()) if k not in event]
    if event['event'] == 'trial' and isinstance(event.get('result'), dict):
        missing += [f'result.{k}' for k in REQUIRED_RESULT_FIELDS if k not in event['result']]
    elif event['event'] == 'trial' and 'result' in event:
        missing.append('result (a dict)')
    return missing


class Journal:
    """Append-only JSONL event log (see module docstring).

    Args:
        path (str): journal file; created if missing. An unterminated last line left by a
            killed writer is removed first (the event it held was never acknowledged).
    """

    def __init__(self, path: str) -> None:
        self.path = path
        os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
        if osp.isfile(path):
            self._cut_torn_tail()

    def _cut_torn_tail(self) -> None:
        with open(self.path, 'rb+') as f:
            data = f.read()
            end = data.rfind(b'\n') + 1
            if end != len(data):
                f.truncate(end)
                f.flush()
                os.fsync(f.fileno())

    def append(self, event: dict) -> None:
        """Write one event as a line, flush and fsync before returning."""
        if not isinstance(event, dict) or not isinstance(event.get('event'), str):
            raise ValueError(f'a journal event must be a dict with a string "event" key, '
                             f'got {event!r}')
        line = json.dumps(event, sort_keys=True) + '\n'
        with open(self.path, 'a', encoding='utf-8') as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())

    def events(self) -> list[dict]:
        return read_journal(self.path)
