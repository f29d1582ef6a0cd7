"""Factories for the metrics tests (the shared ones are in ``tests/factories.py``)."""

import datetime
from decimal import Decimal

import factory

from customers.models import Campaign, CampaignParticipant, CampaignSpend, Source
from public_pool.models import PoolEvent, PoolEventKind
from tests.factories import CustomerFactory

# --- pool-kpis (M4): pool events and campaigns -------------------------------------------------


class PoolEventFactory(factory.django.DjangoModelFactory):
    """A raw pool-log row (the log is append-only: build the history in time order)."""

    class Meta:
        model = PoolEvent

    customer = factory.SubFactory(CustomerFactory)
    kind = PoolEventKind.CLAIM


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Campaign {n}")
    channel = Source.ADVERTISING
    starts_on = datetime.date(2025, 3, 1)
    ends_on = datetime.date(2025, 3, 31)


class CampaignSpendFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CampaignSpend

    campaign = factory.SubFactory(CampaignFactory)
    month = datetime.date(2025, 3, 1)
    amount = Decimal("1000.00")


class CampaignParticipantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CampaignParticipant

    campaign = factory.SubFactory(CampaignFactory)
    customer = factory.SubFactory(CustomerFactory)
