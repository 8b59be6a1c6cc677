"""Run hygiene: what one run created, deleted on exit or interrupt; sweeping what killed runs
left; the locks that let runs and xdist workers share one cluster."""
