"""``bench.settings`` with an API-only URL conf: the fallback of ``bench.pool`` while the full
URL conf does not import (the tree is shared and pages are being built). The claim endpoints
and everything in front of them (middleware, auth, the services) are the same."""

from bench.settings import *  # noqa: F403

ROOT_URLCONF = "bench.pool_urls"
