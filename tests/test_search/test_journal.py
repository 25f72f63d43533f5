"""Append-only journal and atomic snapshots."""
import json
import os

import pytest

from mmautoloss.search.journal import Journal, read_journal
from mmautoloss.utils.atomic_json import read_json, write_json_atomic


def test_append_and_read(tmp_path):
    path = str(tmp_path / 'sub' / 'journal.jsonl')
    journal = Journal(path)
    journal.append(dict(event='a', value=1.5))
    journal.append(dict(event='b', nested=dict(x=[1, 2])))
    assert read_journal(path) == [dict(event='a', value=1.5),
                                  dict(event='b', nested=dict(x=[1, 2]))]
    with open(path) as f:
        assert [json.loads(line)['event'] for line in f] == ['a', 'b']
    assert read_journal(str(tmp_path / 'missing.jsonl')) == []
    with pytest.raises(ValueError, match='event'):
        journal.append(dict(value=1))


def test_torn_last_line_is_dropped_and_cut(tmp_path):
    path = str(tmp_path / 'journal.jsonl')
    journal = Journal(path)
    journal.append(dict(event='a'))
    line = json.dumps(dict(event='b', big='x' * 100))
    with open(path, 'a') as f:
        f.write(line[:30])  # killed mid-write
    assert read_journal(path) == [dict(event='a')]
    reopened = Journal(path)
    reopened.append(dict(event='d'))
    assert read_journal(path) == [dict(event='a'), dict(event='d')]
    with open(path) as f:
        assert f.read().count('\n') == 2


def test_line_without_newline_was_never_acknowledged(tmp_path):
    path = str(tmp_path / 'journal.jsonl')
    Journal(path).append(dict(event='a'))
    with open(path, 'a') as f:
        f.write('{"event": "b"}')
    assert read_journal(path) == [dict(event='a')]
    Journal(path).append(dict(event='c'))
    assert read_journal(path) == [dict(event='a'), dict(event='c')]


def test_corrupt_complete_line_raises_with_line_number(tmp_path):
    path = tmp_path / 'journal.jsonl'
    path.write_text('{"event": "a"}\nnot json\n{"event": "b"}\n')
    with pytest.raises(ValueError, match='line 2'):
        read_journal(str(path))
    path.write_text('{"event": "a"}\n[1, 2]\n')
    with pytest.raises(ValueError, match='line 2'):
        read_journal(str(path))


def test_atomic_snapshot_keeps_old_content_on_failure(tmp_path):
    path = str(tmp_path / 'state.json')
    write_json_atomic(path, dict(round=1))
    assert read_json(path) == dict(round=1)
    with pytest.raises(TypeError):
        write_json_atomic(path, dict(round=2, bad=object()))
    assert read_json(path) == dict(round=1)
    assert os.listdir(tmp_path) == ['state.json']
    write_json_atomic(path, dict(round=3))
    assert read_json(path) == dict(round=3)
