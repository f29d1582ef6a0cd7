"""``Authorization: Token <key>`` with keys that expire when idle (see ``customers.tokens``)."""

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from customers import tokens


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's token header; a key idle longer than ``API_TOKEN_IDLE_DAYS`` answers 401.

    An expired key is deleted when it is presented, so it can never come back to life and
    the next ``POST /api/auth/token/`` issues a fresh one.
    """

    def authenticate_credentials(self, key: str) -> tuple[Any, Token]:
        try:
            token = Token.objects.select_related("user", "activity").get(key=key)
        except Token.DoesNotExist:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        now = timezone.now()
        if tokens.is_expired(token, now):
            token.delete()
            raise exceptions.AuthenticationFailed(
                _("This token has expired. Get a new one from /api/auth/token/.")
            )
        tokens.touch(token, now)
        return token.user, token
