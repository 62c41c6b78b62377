"""Fleet scale: several workers share one rotation run, each claiming (account, zone) units from the ledger, and one
request budget per account (a token bucket in the ledger) paces them all.

:func:`work_units` is what each worker calls (the rotation runbook with ``worker = True``); :func:`fleet_units` lists a
run's units for an orchestrator to map tasks over; :class:`LedgerBucket` is the shared rate limiter.
"""

from .bucket import LedgerBucket
from .units import FleetRun, Unit, units_frame
from .worker import FleetOutcome, FleetUnitFailed, fleet_units, fleet_units_async, unit_policy, work_units, work_units_async

__all__ = ["FleetOutcome", "FleetRun", "FleetUnitFailed", "LedgerBucket", "Unit", "fleet_units", "fleet_units_async",
           "unit_policy", "units_frame", "work_units", "work_units_async"]
