"""Run chainrule's benchmarks: ``python bench/run.py [--json bench/results.json]``.

The code lives in :mod:`chainrule.benchmark` so that ``chainrule bench`` runs the same thing.
"""

from chainrule.benchmark import main

if __name__ == "__main__":
    main()
