from tests.public_pool.conftest import pool  # noqa: F401 - a pool of the team
