"""factory_boy factories: one per model, with Traits for states."""

from decimal import Decimal

import factory
from django.utils import timezone

from customers import normalization
from customers.models import (
    Contact,
    Customer,
    Deal,
    DealStage,
    Feedback,
    FollowUp,
    FollowUpKind,
    Role,
    Team,
    User,
)
from public_pool.models import Pool, RecycleRule


class TeamFactory(factory.django.DjangoModelFactory[Team]):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    role = Role.REP
    team = factory.SubFactory(TeamFactory)
    password = factory.PostGenerationMethodCall("set_password", "pw")

    @factory.post_generation
    def _save_password(obj: User, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            obj.save(update_fields=["password"])

    class Params:
        manager = factory.Trait(role=Role.MANAGER)
        admin = factory.Trait(role=Role.ADMIN, is_staff=True, is_superuser=True, team=None)


class PoolFactory(factory.django.DjangoModelFactory[Pool]):
    class Meta:
        model = Pool

    name = factory.Sequence(lambda n: f"Pool {n}")


class RecycleRuleFactory(factory.django.DjangoModelFactory[RecycleRule]):
    """A rule row only: nothing re-matches owned customers or enqueues a task. Customers made
    afterwards through the services (or ``services.refresh_recycle_policies``) follow it."""

    class Meta:
        model = RecycleRule

    pool = factory.SubFactory(PoolFactory)
    name = factory.Sequence(lambda n: f"Rule {n}")
    no_followup_days = 30


class CustomerFactory(factory.django.DjangoModelFactory[Customer]):
    class Meta:
        model = Customer
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Company {n} Ltd")
    name_normalized = factory.LazyAttribute(lambda c: normalization.normalize_company_name(c.name))
    phone = factory.Sequence(lambda n: f"138{n:08d}")
    email = factory.Sequence(lambda n: f"info{n}@company.example")
    owner = factory.SubFactory(UserFactory)
    team = factory.LazyAttribute(lambda c: c.owner.team if c.owner else None)
    pool = None
    claimed_at = factory.LazyFunction(timezone.now)

    class Params:
        pooled = factory.Trait(
            owner=None,
            team=None,
            claimed_at=None,
            pool=factory.SubFactory(PoolFactory),
            pooled_at=factory.LazyFunction(timezone.now),
        )


class ContactFactory(factory.django.DjangoModelFactory[Contact]):
    class Meta:
        model = Contact

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Faker("name")
    phone = factory.Sequence(lambda n: f"139{n:08d}")
    email = factory.Sequence(lambda n: f"person{n}@company.example")


class FollowUpFactory(factory.django.DjangoModelFactory[FollowUp]):
    class Meta:
        model = FollowUp

    customer = factory.SubFactory(CustomerFactory)
    kind = FollowUpKind.CALL
    note = "Talked about next steps"
    by = factory.LazyAttribute(lambda f: f.customer.owner)


class DealFactory(factory.django.DjangoModelFactory[Deal]):
    class Meta:
        model = Deal

    customer = factory.SubFactory(CustomerFactory)
    owner = factory.LazyAttribute(lambda d: d.customer.owner)
    title = factory.Sequence(lambda n: f"Deal {n}")
    amount = Decimal("10000.00")
    stage = DealStage.LEAD

    class Params:
        won = factory.Trait(stage=DealStage.WON, closed_at=factory.LazyFunction(timezone.now))
        lost = factory.Trait(stage=DealStage.LOST, closed_at=factory.LazyFunction(timezone.now))


class FeedbackFactory(factory.django.DjangoModelFactory[Feedback]):
    class Meta:
        model = Feedback

    customer = factory.SubFactory(CustomerFactory)
    nps = 9
