"""API tokens that expire when idle: DRF's ``Token`` plus :class:`customers.models.TokenActivity`.

One key per user, shared by that user's clients. It stops working after
``settings.API_TOKEN_IDLE_DAYS`` without use; each use moves the end on. Sign-in plumbing,
not a business rule, so it lives beside the API rather than in ``services``.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from customers.models import TokenActivity, User

# ``last_used_at`` is rewritten at most this often per token: idle expiry counts days, so a
# minute's precision costs nothing and spares a write on every request of a busy client.
TOUCH_EVERY = timedelta(minutes=1)


def last_used_at(token: Token) -> datetime:
    try:
        return token.activity.last_used_at
    except TokenActivity.DoesNotExist:
        return token.created


def expires_at(token: Token) -> datetime:
    return last_used_at(token) + timedelta(days=settings.API_TOKEN_IDLE_DAYS)


def is_expired(token: Token, now: datetime | None = None) -> bool:
    return expires_at(token) <= (now or timezone.now())


def touch(token: Token, now: datetime) -> None:
    """Record a use of ``token`` (at most once per ``TOUCH_EVERY``)."""
    if now - last_used_at(token) < TOUCH_EVERY:
        return
    updated = TokenActivity.objects.filter(token=token).update(last_used_at=now)
    if not updated:
        try:
            with transaction.atomic():
                TokenActivity.objects.create(token=token, last_used_at=now)
        except IntegrityError:  # another request of the same client recorded it first
            TokenActivity.objects.filter(token=token).update(last_used_at=now)
    token.activity = TokenActivity(token=token, last_used_at=now)


def issue_token(user: User) -> Token:
    """The user's live token (a new one if it had none or it had expired), marked as used now."""
    now = timezone.now()
    token, created = Token.objects.select_related("activity").get_or_create(user=user)
    if not created and is_expired(token, now):
        token.delete()
        token = Token.objects.create(user=user)
    touch(token, now)
    return token


def revoke_token(user: User) -> None:
    Token.objects.filter(user=user).delete()
