"""gunicorn's settings for the web processes.

gunicorn reads ``./gunicorn.conf.py`` from its working directory, so every
``gunicorn crm_site.wsgi:application`` started in the project (the image's CMD and
docker-compose.yml's ``web`` in /app, ``bench.pool`` in the checkout) runs with these;
command-line options override them (docker-compose.yml sets ``--workers`` from
``WEB_CONCURRENCY``, the address and the access log). Measured choices (issue 12,
bench/README.md "Public pool"):

- **One process per core, each with 4 threads** (``gthread``; ``WEB_CONCURRENCY`` processes,
  ``GUNICORN_THREADS`` threads): a request spends a good part of its time waiting for
  PostgreSQL and Redis, and the threads of a process fill those waits. More processes than
  cores only make them preempt one another in the middle of requests: on the 2-core bench
  machine, in alternated runs, 2 processes x 8 threads served more claims with a shorter tail
  than 4 x 4. Once a process takes only what its threads can serve (below), 4 threads beat 8:
  496 / 469 claims/s, p99 105 / 99 ms against 447 / 440 claims/s, p99 117 / 119 ms (fewer
  threads contending for the process's interpreter lock in the middle of their requests).
- **No keep-alive** (``keepalive = 0``: the connection closes after each answer). A kept
  connection stays with the process that accepted it, whatever that process's load: with 32
  clients on 2 processes the bench measured 10 connections on one and 22 on the other, and the
  22 waited 2.5 times as long (per-client mean 65 against 145 ms). A new connection per request
  goes to whichever process accepts first, which spreads the load (per-client means 105-126 ms,
  more claims a second). Behind nginx (deploy/nginx.conf) nothing changes: it opens a
  connection to the web replica per request anyway.
- **A process takes a connection only when one of its threads is free**
  (``worker_connections`` = threads; ``GUNICORN_WORKER_CONNECTIONS`` overrides it). gunicorn's
  default, 1,000, lets a process whose threads are all busy go on accepting connections and
  queue them behind its own requests while the other process may have a thread idle; with the
  limit, a connection no thread can take stays in the listening socket's queue, shared by all
  processes, for the first thread that frees up. Alternated ``bench.pool`` runs (32 clients,
  2 x 8): p99 of HTTP claims 126 / 127 / 186 ms against 194 / 187 / 177 ms with 1,000, claim
  next 116 / 140 / 143 against 206 / 184 / 174 ms (bench/README.md).
- **A worker is replaced after 20,000 requests** (±2,000, so that they do not all restart at
  once), a guard against slow leaks. A new worker loads Django again (about a second of CPU):
  every 2,000 requests that cost ~0.5 ms per request.
- **``gc.freeze()`` once a worker has loaded the application**: the tens of thousands of objects
  of Django, the apps and their modules live as long as the process, and without it every full
  collection of the cycle collector walks them all again (tens of milliseconds with every
  thread of the process stopped, in the middle of some request).
"""

import gc
import os
from typing import Any

worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# A process takes a connection only when one of its threads is free to serve it.
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", str(threads)))
keepalive = 0
# Lead imports of 100,000 rows run in their request (about a minute): allow two.
timeout = 120
max_requests = 20_000
max_requests_jitter = 2_000


def post_worker_init(worker: Any) -> None:
    """Leave the application's own objects out of every later garbage collection."""
    gc.collect()
    gc.freeze()
