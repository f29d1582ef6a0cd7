"""The recycle task end to end: a real Celery worker process, Redis, and the test database."""

from customers.models import Customer
from public_pool.models import PoolEvent, PoolEventKind
from tests.factories import RecycleRuleFactory, UserFactory
from tests.public_pool.conftest import owned


def test_recycle_task_runs_in_a_real_worker(celery_workers, team, pool):
    celery_workers.start()
    rep = UserFactory(team=team)
    RecycleRuleFactory(pool=pool, no_followup_days=10)  # rows only: no task enqueued on commit
    stale = [owned(rep, pool, claimed_days_ago=20) for _ in range(3)]
    fresh = owned(rep, pool, claimed_days_ago=2)
    try:
        answer = celery_workers.send("public_pool.tasks.recycle_pool_task").get(timeout=60)
    except Exception:
        print(celery_workers.output())
        raise

    assert answer["recycled"] == 3
    assert answer["skipped"] is False
    assert set(Customer.objects.filter(pool=pool).values_list("pk", flat=True)) == {c.pk for c in stale}
    events = PoolEvent.objects.filter(kind=PoolEventKind.RECYCLE)
    assert set(events.values_list("customer_id", flat=True)) == {c.pk for c in stale}
    assert events.count() == 3
    fresh.refresh_from_db()
    assert fresh.owner == rep
