"""Benchmarks: `make bench` runs them all and rewrites BENCHMARKS.md; each also runs alone:

python -m benchmarks.per_request   # in-process cost of each operation vs. a floor
python -m benchmarks.scaling       # list queries at 10 vs 10,000 rows; cleanup at scale
python -m benchmarks.load          # gunicorn + PostgreSQL + moto server under locust
python -m benchmarks.datapath      # 100 MB through the page in Chromium vs. curl
"""
