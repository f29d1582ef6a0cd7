"""Seeding steps for the sales organisation and its catalogues: users, teams, pools, tags, campaigns.

These tables are small (hundreds of rows at the benchmark size), so they go through the ORM
on every database; the ids they get are what the customer step refers to.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.apps import apps
from django.contrib.auth.hashers import make_password

from customers.demo import vocabulary as words
from customers.demo.context import SeedContext
from customers.demo.writers import date_of
from customers.models import Campaign, CampaignSpend, Role, Tag, Team, User

CHINESE_NUMBERS = "一二三四五六七八九十"


def _team_name(region: str, number: int) -> str:
    label = CHINESE_NUMBERS[number - 1] if number <= len(CHINESE_NUMBERS) else str(number)
    return f"{region}{label}组 · {words.REGION_ENGLISH[region]} {number}"


def seed_organisation(ctx: SeedContext) -> None:
    """``admin``, ``manager1…`` (one team each) and ``rep1…`` spread over the teams.

    Teams get regions in order of customer weight (华东, 华南, 华北, …), so a small demo
    covers the big regions. The password is hashed once and shared: hashing it per user
    would cost seconds at 200 reps and tells nothing more.
    """
    options = ctx.options
    ctx.password_hash = make_password(options.password)
    regions = sorted(words.REGION_WEIGHTS, key=lambda region: -words.REGION_WEIGHTS[region])
    teams: list[Team] = []
    per_region: dict[str, int] = {}
    for index in range(options.managers):
        region = regions[index % len(regions)]
        per_region[region] = per_region.get(region, 0) + 1
        team, _created = Team.objects.get_or_create(
            name=_team_name(region, per_region[region]), defaults={"region": region}
        )
        teams.append(team)
    rng = ctx.rng

    def person(username: str, **fields: object) -> User:
        surname, _ = rng.choice(words.SURNAMES)
        given, _ = rng.choice(words.GIVEN_NAMES)
        return User(
            username=username,
            password=ctx.password_hash,
            first_name=given,
            last_name=surname,
            email=f"{username}@demo.example",
            **fields,
        )

    users = [person("admin", role=Role.ADMIN, is_staff=True, is_superuser=True, team=None)]
    users += [
        person(f"manager{number}", role=Role.MANAGER, team=teams[number - 1])
        for number in range(1, options.managers + 1)
    ]
    users += [
        person(f"rep{number}", role=Role.REP, team=teams[(number - 1) % len(teams)] if teams else None)
        for number in range(1, options.reps + 1)
    ]
    User.objects.bulk_create(users)
    ids = dict(User.objects.filter(username__in=[u.username for u in users]).values_list("username", "pk"))
    ctx.admin_id = ids["admin"]
    ctx.manager_ids = [ids[f"manager{number}"] for number in range(1, options.managers + 1)]
    for team, manager_id in zip(teams, ctx.manager_ids, strict=True):
        Team.objects.filter(pk=team.pk).update(manager_id=manager_id)
    ctx.team_regions = {team.pk: team.region for team in teams}
    ctx.reps = [
        (ids[f"rep{number}"], teams[(number - 1) % len(teams)].pk, teams[(number - 1) % len(teams)].region)
        for number in range(1, options.reps + 1)
    ]
    ctx.counted("users", len(users))
    ctx.counted("teams", len(teams))


def seed_pools(ctx: SeedContext) -> None:
    """A 公海 per region that has teams (its teams are members) and a nationwide one (all teams).

    Released leads of a region go to the region's pool; leads of regions without a team go to
    the nationwide pool. ``Pool`` is looked up through the app registry: ``customers`` never
    imports ``public_pool`` (DESIGN.md), and the pool app owns its own seeding steps.
    """
    pool_model = apps.get_model("public_pool", "Pool")
    held_per_rep = ctx.options.customers // max(len(ctx.reps), 1)
    # Limits a little above what the seed gives each rep, so claiming works but limits show.
    max_held = max(50, round(held_per_rep * 1.2, -1))
    team_ids_by_region: dict[str, list[int]] = {}
    for team_id, region in ctx.team_regions.items():
        team_ids_by_region.setdefault(region, []).append(team_id)
    extra = {}
    if any(f.name == "is_default" for f in pool_model._meta.fields):
        # Customers that never were in a pool follow the default pool's rules: the nationwide one.
        extra["is_default"] = not pool_model.objects.filter(is_default=True).exists()
    nationwide, _created = pool_model.objects.get_or_create(
        name="全国公海 · Nationwide pool",
        defaults={
            **extra,
            "description": "未分区线索和大客户线索 · Leads without a regional team, and key accounts",
            "owner_id": ctx.admin_id,
            "max_held_per_rep": max_held,
            "max_claims_per_day": 10,
            "cooldown_days": 30,
            "hide_contacts": True,
        },
    )
    nationwide.teams.set(ctx.team_regions)
    pools = [nationwide]
    ctx.pool_for_region = dict.fromkeys(words.REGIONS, nationwide.pk)
    for region, team_ids in team_ids_by_region.items():
        manager_ids = [m for m, t in zip(ctx.manager_ids, ctx.team_regions, strict=True) if t in team_ids]
        pool, _created = pool_model.objects.get_or_create(
            name=f"{region}公海 · {words.REGION_ENGLISH[region]} pool",
            defaults={
                "description": f"{region}地区释放和回收的客户 · Released and recycled leads of the region",
                "owner_id": manager_ids[0] if manager_ids else ctx.admin_id,
                "max_held_per_rep": max_held,
                "max_claims_per_day": 20,
                "cooldown_days": 15,
                "hide_contacts": True,
            },
        )
        pool.teams.set(team_ids)
        pools.append(pool)
        ctx.pool_for_region[region] = pool.pk
    ctx.counted("pools", len(pools))


def seed_catalogue(ctx: SeedContext) -> None:
    """Tags, and campaigns spread over the year with a budget, monthly spend and targets.

    Campaign participants are written with the customers they bring in (customer step).
    """
    Tag.objects.bulk_create([Tag(name=name) for name in words.TAGS], ignore_conflicts=True)
    ctx.tag_ids = list(Tag.objects.filter(name__in=words.TAGS).order_by("pk").values_list("pk", flat=True))
    ctx.counted("tags", len(ctx.tag_ids))

    rng = ctx.rng
    today = ctx.today
    campaigns = []
    for index, (name_zh, name_en, channel) in enumerate(words.CAMPAIGNS):
        first_day = today - 360 + index * 29
        last_day = first_day + rng.choice([14, 30, 45, 60, 90])
        budget = rng.choice([50_000, 80_000, 120_000, 200_000, 300_000, 500_000])
        campaigns.append(
            Campaign(
                name=f"{name_zh} · {name_en}",
                channel=channel,
                budget=Decimal(budget),
                target_leads=budget // 1000,
                target_sales=Decimal(budget * rng.choice([4, 6, 8, 10])),
                starts_on=date_of(first_day),
                ends_on=date_of(last_day),
                owner_id=rng.choice([ctx.admin_id, *ctx.manager_ids]),
            )
        )
    Campaign.objects.bulk_create(campaigns)
    saved = list(Campaign.objects.order_by("pk"))[-len(campaigns) :]
    spends = []
    for campaign, (_zh, _en, channel) in zip(saved, words.CAMPAIGNS, strict=True):
        first_day = (campaign.starts_on - date_of(0)).days
        last_day = (campaign.ends_on - date_of(0)).days
        ctx.campaigns.append((campaign.pk, channel, first_day, last_day))
        months = []
        month = campaign.starts_on.replace(day=1)
        while month <= min(campaign.ends_on, date_of(today)):
            months.append(month)
            month = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
        for month in months:
            share = campaign.budget / len(months) * Decimal(rng.uniform(0.7, 1.15))
            spends.append(
                CampaignSpend(campaign=campaign, month=month, amount=share.quantize(Decimal("0.01")))
            )
    CampaignSpend.objects.bulk_create(spends)
    ctx.counted("campaigns", len(campaigns))
    ctx.counted("campaign spends", len(spends))
