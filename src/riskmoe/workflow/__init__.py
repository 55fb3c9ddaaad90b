"""Jobs that wire the rooms together; the doors (CLI, service) call these and nothing else.

=========================  ==============================================================
``ingest``, ``clean``      :func:`ingest`, :func:`clean_dataset`
``run``                    :func:`run` over :func:`default_stages` (:class:`Stage`,
                           :class:`RunContext`, :class:`RunConfig`, :class:`RunResult`)
=========================  ==============================================================
"""

from riskmoe.workflow.ingest import CleanResult, clean_dataset, ingest
from riskmoe.workflow.run import (
    RunConfig,
    RunContext,
    RunResult,
    Stage,
    default_stages,
    run,
)

__all__ = [
    "CleanResult",
    "RunConfig",
    "RunContext",
    "RunResult",
    "Stage",
    "clean_dataset",
    "default_stages",
    "ingest",
    "run",
]
