"""The bulk of the seed: customers with a year of history, generated chunk by chunk.

For each customer the generator decides its whole story at once — created, claimed (or
imported into a pool, or worked and released), contacts, follow-ups, deals, feedback, tags,
campaign — so the derived columns on the customer row (``last_followup_at``,
``first_won_at``, ``updated_at``, ``claimed_at``, ``pooled_at``) are written already
consistent with the child rows. That replaces set-based ``UPDATE``s over a million
customers after the load (each one a full rewrite of the table and its indexes) by a
``max()`` in Python that costs nothing extra; the tests check the result with aggregates.

Rows leave in chunks of ``CHUNK`` customers, so memory stays bounded at any size, and go to
the context's writer (``COPY`` on PostgreSQL, ``bulk_create`` elsewhere). Ids are given
here, so children can refer to their parents without a round trip.

Names are unique by construction up to tens of thousands of companies per city: the n-th
company of a city takes the n-th combination of brand and line of business through a
fixed permutation (``n * stride mod size``), so neighbours do not look alike.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.db.models import Max

from customers.demo import vocabulary as words
from customers.demo.context import SeedContext
from customers.demo.writers import MINUTES_PER_DAY, Row, Table
from customers.models import (
    CampaignParticipant,
    Contact,
    Customer,
    Deal,
    Feedback,
    FollowUp,
)
from customers.normalization import normalize_company_name, normalize_phone

CHUNK = 10_000
POOLED_SHARE = 0.12  # customers sitting in a pool
WORKED_BEFORE_POOLED = 0.6  # of those, the share a rep worked before releasing it
CHINESE_NAME_SHARE = 0.75

# Columns another app's step may fill while the rows are generated (``CustomerPolicy``), so that
# no second pass rewrites a million customer rows with their indexes.
POLICY_COLUMNS = [
    "home_pool_id", "recycle_rule_id", "recycle_idle_days", "recycle_deal_days", "recycle_exempt_stage",
    "recycle_due_at", "recycle_policy_stale", "priority_score",
]  # fmt: skip
NO_POLICY = (None, None, None, None, "", None, True, 0)


@dataclass(frozen=True, slots=True)
class CustomerFacts:
    """What a ``CustomerPolicy`` may base a generated customer's policy columns on. Moments are
    whole minutes (the writer's unit, ``writers.datetime_of``); ``deals`` are ``(stage, closed)``."""

    owner_id: int | None
    pool_id: int | None
    region: str
    level: str
    industry: str
    size: str
    source: str
    is_protected: bool
    created: int
    claimed_at: int | None
    last_followup: int | None
    followups: int
    deals: list[tuple[str, int | None]]


# A later app's step sets ``ctx.shared[POLICY_KEY]`` to a function from ``CustomerFacts`` to the
# values of ``POLICY_COLUMNS`` (the public pool: home pool, matching rule, deadline, priority).
POLICY_KEY = "customer_policy"
CustomerPolicy = Callable[[CustomerFacts], tuple]

# A later app's step may set ``ctx.shared[RECYCLER_KEY]`` to a function from a generated owned
# customer's id and ``CustomerFacts`` to ``(pool_id, moment)`` when its rule would already have
# sent it back to a pool (the public pool: the recycle job ran all along), else None. The
# customer is then written pooled there since that moment; its history stays the rep's.
RECYCLER_KEY = "customer_recycler"
CustomerRecycler = Callable[[int, CustomerFacts], "tuple[int, int] | None"]


CUSTOMERS = Table(
    Customer,
    [
        "id", "name", "name_normalized", "industry", "size", "region", "address", "website", "phone",
        "email", "source", "campaign_id", "level", "is_protected", "owner_id", "team_id", "pool_id",
        "created_by_id", "created_at", "updated_at", "last_followup_at", "first_won_at", "claimed_at",
        "pooled_at", *POLICY_COLUMNS,
    ],
)  # fmt: skip
CONTACTS = Table(
    Contact, ["id", "customer_id", "name", "title", "phone", "email", "wechat", "is_primary", "created_at"]
)
FOLLOWUPS = Table(FollowUp, ["id", "customer_id", "kind", "note", "at", "by_id", "created_at"])
DEALS = Table(
    Deal,
    [
        "id",
        "customer_id",
        "owner_id",
        "title",
        "amount",
        "stage",
        "expected_close",
        "closed_at",
        "created_at",
        "updated_at",
    ],
)
FEEDBACK = Table(
    Feedback,
    ["id", "customer_id", "contact_id", "nps", "csat", "complaint", "channel", "at", "recorded_by_id"],
)
PARTICIPANTS = Table(CampaignParticipant, ["id", "campaign_id", "customer_id", "contact_id", "joined_at"])
CUSTOMER_TAGS = Table(Customer.tags.through, ["id", "customer_id", "tag_id"])
TABLES = (CUSTOMERS, CONTACTS, FOLLOWUPS, DEALS, FEEDBACK, PARTICIPANTS, CUSTOMER_TAGS)
LABELS = {
    CUSTOMERS: "customers",
    CONTACTS: "contacts",
    FOLLOWUPS: "follow-ups",
    DEALS: "deals",
    FEEDBACK: "feedback",
    PARTICIPANTS: "campaign participants",
    CUSTOMER_TAGS: "customer tags",
}


def _weighted(pairs: Sequence[tuple[object, int]]) -> list:
    """A list to index with ``int(random() * len)``: faster than ``random.choices`` per call."""
    return [value for value, weight in pairs for _ in range(weight)]


SIZES = _weighted([("micro", 20), ("small", 35), ("medium", 25), ("large", 14), ("enterprise", 6)])
BIG = {"large", "enterprise"}
LEVELS_BIG = _weighted([("A", 35), ("B", 40), ("C", 25)])
LEVELS_SMALL = _weighted([("A", 5), ("B", 25), ("C", 70)])
SOURCES = _weighted(
    [("website", 20), ("referral", 12), ("trade_show", 15), ("cold_call", 15), ("advertising", 10),
     ("social", 10), ("partner", 8), ("import", 8), ("other", 2)]
)  # fmt: skip
KINDS = _weighted([("call", 35), ("message", 20), ("email", 20), ("visit", 12), ("meeting", 13)])
DEAL_COUNTS = _weighted([(0, 45), (1, 40), (2, 12), (3, 3)])
STAGES = _weighted(
    [("lead", 14), ("qualified", 12), ("proposal", 12), ("negotiation", 9), ("won", 30), ("lost", 23)]
)
FORMER_STAGES = _weighted([("lost", 60), ("won", 20), ("lead", 10), ("qualified", 10)])
DEAL_BASE = {"micro": 8_000, "small": 30_000, "medium": 90_000, "large": 250_000, "enterprise": 800_000}
NPS = _weighted([(10, 22), (9, 20), (8, 16), (7, 12), (6, 8), (5, 6), (4, 4), (3, 4), (2, 3), (1, 2), (0, 3)])
CSAT = _weighted([(5, 38), (4, 34), (3, 15), (2, 8), (1, 5)])
FEEDBACK_CHANNELS = _weighted([("survey", 55), ("phone", 25), ("manual", 20)])
REGION_PICK = _weighted(list(words.REGION_WEIGHTS.items()))
NOTES = words.FOLLOWUP_NOTES

_CN_BRANDS = len(words.BRAND_FIRST) * len(words.BRAND_SECOND)
_CN_COMBOS = _CN_BRANDS * len(words.BUSINESS_LINES)
_EN_BRANDS = len(words.ENGLISH_PREFIXES) * len(words.ENGLISH_SUFFIXES)
_EN_QUALIFIERS = ["", "Global", "International", "Asia", "China", "Pacific"]
_EN_COMBOS = _EN_BRANDS * len(_EN_QUALIFIERS) * len(words.BUSINESS_LINES)


def _stride(size: int, near: float) -> int:
    """A step coprime to ``size`` near ``size * near``: ``n * step mod size`` visits every value once."""
    step = int(size * near) | 1
    while math.gcd(step, size) != 1:
        step += 2
    return step


_CN_STRIDE = _stride(_CN_COMBOS, 0.382)
_EN_STRIDE = _stride(_EN_COMBOS, 0.618)


def _slug(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


class _Names:
    """Company names, industries and web domains, unique per city up to the combinations there are."""

    def __init__(self, seed: int) -> None:
        self.counters: dict[str, int] = {}
        self.seed = seed

    def _next(self, key: str) -> int:
        """The key's running number, shifted by a per-key offset so cities do not start alike."""
        number = self.counters.get(key, 0)
        self.counters[key] = number + 1
        return number + zlib.crc32(f"{self.seed}:{key}".encode())

    def chinese(self, city: tuple[str, str, str], legal: str) -> tuple[str, str, str]:
        combo = self._next(city[0]) * _CN_STRIDE % _CN_COMBOS
        brand, line = divmod(combo, len(words.BUSINESS_LINES))
        first, second = divmod(brand, len(words.BRAND_SECOND))
        (first_zh, first_py), (second_zh, second_py) = words.BRAND_FIRST[first], words.BRAND_SECOND[second]
        line_zh, line_code, _line_en, industry = words.BUSINESS_LINES[line]
        name = f"{city[0]}{first_zh}{second_zh}{line_zh}{legal}"
        return name, industry, f"{first_py}{second_py}{line_code}-{_slug(city[1])}.com.cn"

    def english(self, city: str, legal: str) -> tuple[str, str, str]:
        combo = self._next("en:" + city) * _EN_STRIDE % _EN_COMBOS
        rest, line = divmod(combo, len(words.BUSINESS_LINES))
        brand, qualifier = divmod(rest, len(_EN_QUALIFIERS))
        prefix, suffix = divmod(brand, len(words.ENGLISH_SUFFIXES))
        brand_name = words.ENGLISH_PREFIXES[prefix] + words.ENGLISH_SUFFIXES[suffix]
        _zh, _code, line_en, industry = words.BUSINESS_LINES[line]
        parts = [city, brand_name, _EN_QUALIFIERS[qualifier], line_en, legal]
        domain = _slug(brand_name + _EN_QUALIFIERS[qualifier] + line_en) + (f"-{_slug(city)}" if city else "")
        return " ".join(part for part in parts if part), industry, f"{domain}.com"


def _next_ids(tables: Sequence[Table]) -> dict[Table, int]:
    """The first free id of each table (1 after a flush; the seed refuses to run over data)."""
    return {
        table: (table.model._default_manager.aggregate(top=Max("id"))["top"] or 0) + 1 for table in tables
    }


def seed_customers(ctx: SeedContext) -> None:
    """Customers and their history, streamed in chunks of ``CHUNK`` through the writer."""
    total = ctx.options.customers
    if total <= 0:
        return
    generator = _CustomerGenerator(ctx, _next_ids(TABLES))
    report_every = max(total // 10, CHUNK) if total >= 100_000 else total + 1
    if ctx.progress is not None:
        ctx.progress.add_total(total)
    with ctx.writer.bulk_load(TABLES) as load:
        done = 0
        while done < total:
            size = min(CHUNK, total - done)
            rows = generator.chunk(size)
            for table in TABLES:
                load.write(table, rows[table])
                ctx.counted(LABELS[table], len(rows[table]))
            done += size
            if ctx.progress is not None:
                ctx.progress.advance(size)
            elif done % report_every < size:
                ctx.log(f"  customers generated: {done:,}/{total:,}")
    ctx.shared["customer_tables"] = TABLES


class _CustomerGenerator:
    """Generates customers and their history; holds the id counters between chunks."""

    def __init__(self, ctx: SeedContext, next_ids: dict[Table, int]) -> None:
        self.ctx = ctx
        self.rng = ctx.rng
        self.ids = dict(next_ids)
        self.names = _Names(ctx.options.seed)
        # Owned customers without follow-ups exist (just claimed); scale the mean so that the
        # average over all customers is --followups-per-customer.
        worked = 1 - POOLED_SHARE * (1 - WORKED_BEFORE_POOLED)
        self.followup_span = 2 * ctx.options.followups_per_customer / worked
        self.campaigns_by_channel: dict[str, list[tuple[int, int, int]]] = {}
        for campaign_id, channel, first_day, last_day in ctx.campaigns:
            self.campaigns_by_channel.setdefault(channel, []).append((campaign_id, first_day, last_day))
        self.english_cities = {
            region: [city[1] for city in cities] for region, cities in words.REGIONS.items()
        }

    def _take(self, table: Table) -> int:
        value = self.ids[table]
        self.ids[table] = value + 1
        return value

    def _work_time(self, low: int, high: int) -> int:
        """A moment in [low, high], in office hours (9:00–18:30 company time) when one fits."""
        rnd = self.rng.random
        moment = low + int(rnd() * (high - low + 1))
        offset = self.ctx.utc_offset
        day = (moment + offset) // MINUTES_PER_DAY
        office = day * MINUTES_PER_DAY + 540 + int(rnd() * 570) - offset
        return office if low <= office <= high else moment

    def _campaign(self, channel: str, day: int) -> int | None:
        for campaign_id, first_day, last_day in self.campaigns_by_channel.get(channel, ()):
            if first_day <= day <= last_day + 30:
                return campaign_id
        return None

    def chunk(self, count: int) -> dict[Table, list[Row]]:
        ctx, rng = self.ctx, self.rng
        rnd = rng.random
        now, admin_id, reps = ctx.now, ctx.admin_id, ctx.reps
        work_time, take = self._work_time, self._take
        rows: dict[Table, list[Row]] = {table: [] for table in TABLES}
        customers, contacts, followups = rows[CUSTOMERS], rows[CONTACTS], rows[FOLLOWUPS]
        deals, feedback, participants, tag_links = (
            rows[DEALS],
            rows[FEEDBACK],
            rows[PARTICIPANTS],
            rows[CUSTOMER_TAGS],
        )
        year = 364 * MINUTES_PER_DAY
        followup_span = self.followup_span + 1
        tag_ids = ctx.tag_ids
        policy: CustomerPolicy | None = ctx.shared.get(POLICY_KEY)
        recycler: CustomerRecycler | None = ctx.shared.get(RECYCLER_KEY)
        for _ in range(count):
            customer_id = take(CUSTOMERS)
            created = now - MINUTES_PER_DAY - int(rnd() * year)
            created = work_time(created - 240, created)
            # Ownership: owned by a rep (team = the rep's team), or in a pool.
            if rnd() < POOLED_SHARE:
                region = REGION_PICK[int(rnd() * len(REGION_PICK))]
                owner_id = team_id = claimed_at = None
                pool_id = ctx.pool_for_region[region]
                if rnd() < WORKED_BEFORE_POOLED:  # a rep worked it, then released it
                    worker_id = reps[int(rnd() * len(reps))][0]
                    start = work_time(created, created + (now - created) // 3)
                    pooled_at = work_time(start + (now - start) // 2, now)
                    active_until = pooled_at
                else:  # imported or entered straight into the pool
                    worker_id = None
                    pooled_at = start = active_until = created
            else:
                owner_id, team_id, region = reps[int(rnd() * len(reps))]
                if rnd() < 0.15:
                    region = REGION_PICK[int(rnd() * len(REGION_PICK))]
                worker_id, pool_id, pooled_at = owner_id, None, None
                # Half were entered by the rep, half claimed from a pool later.
                claimed_at = created if rnd() < 0.5 else work_time(created, created + (now - created) // 2)
                start = claimed_at
                # Most are worked to this day; some went quiet (candidates for recycling).
                active_until = now if rnd() < 0.7 else work_time(start, now)
            cities = words.REGIONS[region]
            city = cities[int(rnd() * len(cities))]
            chinese = rnd() < CHINESE_NAME_SHARE
            if chinese:
                legal = words.CHINESE_LEGAL_FORMS[int(rnd() * len(words.CHINESE_LEGAL_FORMS))]
                name, industry, domain = self.names.chinese(city, legal)
                road_zh, _road_en = words.ROADS[int(rnd() * len(words.ROADS))]
                address = f"{city[0]}市{road_zh}{int(rnd() * 2000) + 1}号"
            else:
                legal = words.ENGLISH_LEGAL_FORMS[int(rnd() * len(words.ENGLISH_LEGAL_FORMS))]
                name, industry, domain = self.names.english(city[1] if rnd() < 0.5 else "", legal)
                _road_zh, road_en = words.ROADS[int(rnd() * len(words.ROADS))]
                address = f"No. {int(rnd() * 2000) + 1} {road_en}, {city[1]}"
            language = 0 if chinese == (rnd() < 0.9) else 1  # 0: Chinese notes, 1: English
            size = SIZES[int(rnd() * len(SIZES))]
            levels = LEVELS_BIG if size in BIG else LEVELS_SMALL
            level = levels[int(rnd() * len(levels))]
            source = SOURCES[int(rnd() * len(SOURCES))]
            campaign_id = (
                self._campaign(source, (created + ctx.utc_offset) // MINUTES_PER_DAY) if rnd() < 0.6 else None
            )
            if rnd() < 0.5:
                phone = f"{city[2]}-{int(rnd() * 90_000_000) + 10_000_000}"
            else:
                phone = f"+86 {words.MOBILE_PREFIXES[int(rnd() * len(words.MOBILE_PREFIXES))]} {int(rnd() * 10_000):04d} {int(rnd() * 10_000):04d}"
            email = f"{words.MAILBOXES[int(rnd() * len(words.MAILBOXES))]}@{domain}" if rnd() < 0.8 else ""
            website = f"https://www.{domain}" if rnd() < 0.6 else ""
            latest = max(created, start)

            # Contacts: the first is the primary one.
            primary_contact = None
            for number in range(1 + (rnd() < 0.45) + (rnd() < 0.15)):
                contact_id = take(CONTACTS)
                primary_contact = primary_contact or contact_id
                if chinese or rnd() < 0.3:
                    surname, surname_py = words.SURNAMES[int(rnd() * len(words.SURNAMES))]
                    given, given_py = words.GIVEN_NAMES[int(rnd() * len(words.GIVEN_NAMES))]
                    person, mailbox = surname + given, f"{given_py}.{surname_py}"
                    title = words.CHINESE_TITLES[int(rnd() * len(words.CHINESE_TITLES))]
                    wechat = f"{given_py}{surname_py}{int(rnd() * 10_000)}"
                else:
                    first = words.ENGLISH_FIRST_NAMES[int(rnd() * len(words.ENGLISH_FIRST_NAMES))]
                    last = words.ENGLISH_LAST_NAMES[int(rnd() * len(words.ENGLISH_LAST_NAMES))]
                    person, mailbox = f"{first} {last}", f"{first}.{last}".lower()
                    title = words.ENGLISH_TITLES[int(rnd() * len(words.ENGLISH_TITLES))]
                    wechat = ""
                mobile = f"+86 {words.MOBILE_PREFIXES[int(rnd() * len(words.MOBILE_PREFIXES))]} {int(rnd() * 10_000):04d} {int(rnd() * 10_000):04d}"
                contacts.append(
                    (contact_id, customer_id, person, title, normalize_phone(mobile),
                     f"{mailbox}@{domain}" if rnd() < 0.7 else "", wechat, number == 0, created)
                )  # fmt: skip

            # Follow-ups by whoever worked the customer, between the claim and when work stopped.
            last_followup = None
            followup_count = int(rnd() * followup_span) if worker_id is not None else 0
            if worker_id is not None:
                for _n in range(followup_count):
                    at = work_time(start, active_until)
                    kind = KINDS[int(rnd() * len(KINDS))]
                    notes = NOTES[kind][language]
                    followups.append(
                        (
                            take(FOLLOWUPS),
                            customer_id,
                            kind,
                            notes[int(rnd() * len(notes))],
                            at,
                            worker_id,
                            at,
                        )
                    )
                    if last_followup is None or at > last_followup:
                        last_followup = at
                if last_followup is not None and last_followup > latest:
                    latest = last_followup

            # Deals: open ones expect to close in the coming months; won/lost carry closed_at.
            first_won = None
            customer_deals: list[tuple[str, int | None]] = []
            if worker_id is not None:
                deal_count = DEAL_COUNTS[int(rnd() * len(DEAL_COUNTS))]
                stages = FORMER_STAGES if owner_id is None else STAGES
                titles = words.DEAL_TITLES[language]
                base = DEAL_BASE[size]
                for _n in range(deal_count):
                    opened = work_time(start, active_until)
                    stage = stages[int(rnd() * len(stages))]
                    if stage == "won" or stage == "lost":
                        closed = work_time(opened, active_until)
                        expected = (closed + ctx.utc_offset) // MINUTES_PER_DAY - int(rnd() * 20)
                        updated = closed
                        if stage == "won" and (first_won is None or closed < first_won):
                            first_won = closed
                    else:
                        closed = None
                        expected = ctx.today + 7 + int(rnd() * 110)
                        updated = work_time(opened, active_until)
                    customer_deals.append((stage, closed))
                    deals.append(
                        (take(DEALS), customer_id, worker_id, titles[int(rnd() * len(titles))],
                         f"{int(base * (0.3 + rnd() * 1.7)) // 100 * 100}.00", stage, expected, closed, opened, updated)
                    )  # fmt: skip
                    if updated > latest:
                        latest = updated

            # Feedback: most paying customers answer a survey; a few others call in.
            if worker_id is not None and ((first_won is not None and rnd() < 0.6) or rnd() < 0.05):
                at = work_time(first_won or start, now)
                channel = FEEDBACK_CHANNELS[int(rnd() * len(FEEDBACK_CHANNELS))]
                complaint = ""
                csat: int | None
                if rnd() < 0.1:
                    complaints = words.COMPLAINTS[language]
                    complaint = complaints[int(rnd() * len(complaints))]
                    nps, csat = int(rnd() * 7), 1 + int(rnd() * 3)
                else:
                    nps, csat = NPS[int(rnd() * len(NPS))], CSAT[int(rnd() * len(CSAT))]
                if channel == "phone" and rnd() < 0.3:
                    csat = None
                feedback.append(
                    (take(FEEDBACK), customer_id, primary_contact, nps, csat, complaint, channel, at,
                     None if channel == "survey" else worker_id)
                )  # fmt: skip
                if at > latest:
                    latest = at

            if campaign_id is not None:
                participants.append((take(PARTICIPANTS), campaign_id, customer_id, primary_contact, created))
            if rnd() < 0.35:
                first_tag = int(rnd() * len(tag_ids))
                tag_links.append((take(CUSTOMER_TAGS), customer_id, tag_ids[first_tag]))
                if rnd() < 0.3:
                    second_tag = (first_tag + 1 + int(rnd() * (len(tag_ids) - 1))) % len(tag_ids)
                    if second_tag != first_tag:
                        tag_links.append((take(CUSTOMER_TAGS), customer_id, tag_ids[second_tag]))

            if pooled_at is not None and pooled_at > latest:
                latest = pooled_at
            created_by = admin_id if source == "import" or worker_id is None else worker_id
            protected = owner_id is not None and level == "A" and rnd() < 0.15
            if recycler is not None and owner_id is not None:
                lost = recycler(
                    customer_id,
                    CustomerFacts(owner_id, pool_id, region, level, industry, size, source, protected,
                                  created, claimed_at, last_followup, followup_count, customer_deals),
                )  # fmt: skip
                if lost is not None:
                    pool_id, pooled_at = lost
                    owner_id = team_id = claimed_at = None
                    latest = max(latest, pooled_at)
            policy_values = NO_POLICY
            if policy is not None:
                policy_values = policy(
                    CustomerFacts(owner_id, pool_id, region, level, industry, size, source, protected,
                                  created, claimed_at, last_followup, followup_count, customer_deals)
                )  # fmt: skip
            customers.append(
                (customer_id, name, normalize_company_name(name), industry, size, region, address, website,
                 normalize_phone(phone), email, source, campaign_id, level, protected,
                 owner_id, team_id, pool_id, created_by, created, latest, last_followup, first_won,
                 claimed_at, pooled_at, *policy_values)
            )  # fmt: skip
        return rows
