"""The embedded broker of `make run` and `make test`: kombu's SQLAlchemy transport on a SQLite
file, polled every 0.1 s instead of kombu's 1 s (which capped a worker at one task a second).

Named `embedded` (project/celery.py registers it): `embedded+sqlite:///path/to/broker.sqlite3`.
kombu hands this transport's options to SQLAlchemy's create_engine, so the interval is set here.
"""

from kombu.transport import sqlalchemy


class Transport(sqlalchemy.Transport):
    polling_interval = 0.1
