"""The process plumbing of the executors: device slots and ports (``gpu_slots``), stale
jobs and process identity (``stale_jobs``), the stdlib keeper of a Ray trial's job
(``job_keeper``), the warm per-slot forker (``forker_process`` runs in it, ``forker_pool``
drives it) and a running job as the local executor watches it (``running_jobs``).

Nothing is imported here: Ray pickles some of these modules by value to its workers, and
the keeper and forker run from their source files."""
