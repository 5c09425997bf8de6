"""`make bench`: run the benchmarks (all, or those named), then rewrite BENCHMARKS.md's figures.

python -m benchmarks                      # every benchmark, one process each
python -m benchmarks per_request scaling  # some of them
python -m benchmarks production           # gunicorn.conf.py + PostgreSQL, store at +0/+200 ms and hung
python -m benchmarks quotas               # PostgreSQL: 50 presigns at once vs the limits; the check at 1M rows
python -m benchmarks processing           # Celery workers: thumbnails/s, complete → done, list page bytes
python -m benchmarks scaleout             # two gunicorn servers on one PostgreSQL and one Redis: load, limits
python -m benchmarks report               # only rewrite BENCHMARKS.md from benchmarks/results/

Exits non-zero when a figure misses its target, naming it.
"""

from __future__ import annotations

import subprocess
import sys

from benchmarks import report

BENCHMARKS = (
    "per_request",
    "scaling",
    "load",
    "production",
    "datapath",
    "multipart",
    "quotas",
    "processing",
    "scaleout",
)


def main(names: list[str]) -> int:
    unknown = sorted(set(names) - {*BENCHMARKS, "report"})
    if unknown:
        print(
            f"Unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}.", file=sys.stderr
        )
        return 2
    failed = []
    for name in [name for name in names or BENCHMARKS if name != "report"]:
        print(f"\n== {name} ==", flush=True)
        # One process each: they configure Django and S3 differently.
        if subprocess.run([sys.executable, "-m", f"benchmarks.{name}"]).returncode != 0:
            failed.append(name)
    missed = report.write()
    print(f"\nBENCHMARKS.md rewritten from {report.RESULTS}.")
    for line in failed:
        print(f"FAILED to run: {line}")
    for line in missed:
        print(f"MISSED: {line}")
    return 1 if failed or missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
