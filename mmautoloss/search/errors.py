"""The errors of a search (as Optuna's ``exceptions.py``): what ``tools/search.py`` reports
in one line with exit code 2, nothing trained.

Every message names the setting (or the file) and the value that is wrong.
"""


class SearchError(ValueError):
    """Base class: a search that cannot start or go on as asked; the message says why."""


class SearchConfigError(SearchError):
    """A search config that cannot run: a key, a value, a proxy config or a data file the
    search needs (e.g. a filter that cannot record the proxy's loss inputs)."""


class ResumeError(SearchError):
    """A work dir that cannot be started or resumed as asked: a journal where a new search
    would start, none where ``--resume`` expects one, a damaged journal, a config that
    differs from the recorded search, or a recorded trial the searcher no longer proposes."""
