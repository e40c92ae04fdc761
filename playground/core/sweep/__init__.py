"""Sweeps and scoreboards: many seeded runs on a local process pool or a Dask cluster."""

from .engines import run_all
from .grid import SweepSpec, grid, load_spec, parse_seeds, parse_sets
from .runs import RunSpec, run_one
from .scoreboard import rank_rows, run_scoreboard
from .table import plot_sweep, write_table

__all__ = [
    "RunSpec",
    "run_one",
    "run_all",
    "parse_seeds",
    "parse_sets",
    "grid",
    "SweepSpec",
    "load_spec",
    "write_table",
    "plot_sweep",
    "rank_rows",
    "run_scoreboard",
]
