"""Re-draw a search's report from its journal: ``python tools/search_report.py WORK_DIR
[--optuna URL]``.

Writes ``WORK_DIR/report.md`` (and ``report.png`` when the search has a re-training stage)
and prints the markdown; works on a search that is still running. ``--optuna URL`` also
mirrors the journal into the Optuna study of that storage (idempotent: trials already there
are not added again; see ``mmautoloss/search/optuna_study.py``). Exit code 2 when the work
dir holds no readable journal or the storage cannot be written.
"""
import argparse
import os.path as osp
import sys

from mmautoloss.search.events import parse_events
from mmautoloss.search.journal import read_journal
from mmautoloss.search.optuna_study import (
    OptunaMirror,
    describe_from_journal,
    storage_url,
    study_name,
)
from mmautoloss.search.report import write_report
from mmautoloss.search.structures import JOURNAL_NAME, REPORT_MD


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description='Write report.md / report.png of a search '
                                     'from its journal.')
    parser.add_argument('work_dir', help='the search work dir (holds journal.jsonl)')
    parser.add_argument('--optuna', metavar='URL',
                        help='also mirror the journal into the Optuna study of this storage '
                        "('sqlite:///path.db', 'postgresql://...'; needs the dashboard extra)")
    args = parser.parse_args(argv)
    path = osp.join(args.work_dir, JOURNAL_NAME)
    if not osp.isfile(path):
        print(f'search report error: {path} is not a file (no search recorded in '
              f'{args.work_dir!r})', file=sys.stderr)
        return 2
    try:
        events = parse_events(read_journal(path))
    except ValueError as error:  # a damaged line: the report would be a guess
        print(f'search report error: {error}', file=sys.stderr)
        return 2
    print(write_report(args.work_dir, events))
    print(f'written: {osp.join(args.work_dir, REPORT_MD)}', file=sys.stderr)
    if args.optuna:
        url, name = storage_url(args.optuna, args.work_dir), study_name(args.work_dir)
        try:
            added = OptunaMirror(url, name, describe_from_journal(events)).sync(events)
        except ImportError as error:
            print(f'search report error: --optuna needs Optuna ({error}); pip install '
                  "'mmautoloss[dashboard]'", file=sys.stderr)
            return 2
        except Exception as error:  # the storage: a bad URL, no server, a read-only file
            print(f'search report error: --optuna {url!r}: {type(error).__name__}: {error}',
                  file=sys.stderr)
            return 2
        print(f'optuna: {added} trial(s) added to study {name!r} in {url}', file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main())
