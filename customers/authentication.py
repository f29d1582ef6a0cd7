"""``Authorization: Token <key>`` with keys that expire when idle (see ``customers.tokens``).

Every API request with a token pays for its look-up, so the look-up is one hand-written
statement (the token, its user and its activity row, joined), compiled once per process from
the models' metadata: the ORM spent about 0.45 ms of CPU building and compiling the same
``select_related`` query on every request, several times what PostgreSQL spends answering it
(issue 12). The instances are built with ``Model.from_db`` and the relations cached as
``select_related`` would, so the rest of the code sees the same objects.
"""

from typing import Any

from django.db import connections, router
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from customers import tokens
from customers.models import TokenActivity, User

Converter = tuple[int, list[Any], Any]  # column index, the ORM's converters, the column


class _Lookup:
    """The statement, the columns of each model and the converters the ORM would apply, for one
    database (SQLite, the embedded default, hands datetimes back naive: its converter makes them
    aware; PostgreSQL needs none here)."""

    def __init__(self, alias: str) -> None:
        connection = connections[alias]
        quote = connection.ops.quote_name
        models: list[type[Model]] = [Token, User, TokenActivity]
        fields = [(model, field) for model in models for field in model._meta.concrete_fields]
        self.names = [[field.attname for field in model._meta.concrete_fields] for model in models]
        self.converters: list[Converter] = []
        for index, (_model, field) in enumerate(fields):
            column = field.get_col(field.model._meta.db_table)
            found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            if found:
                self.converters.append((index, found, column))
        tables = {Token: "t", User: "u", TokenActivity: "a"}
        select = ", ".join(f"{tables[model]}.{quote(field.column)}" for model, field in fields)
        token_key = quote(Token._meta.pk.column)
        self.sql = (
            f"SELECT {select} FROM {quote(Token._meta.db_table)} t "  # noqa: S608 - names from the models
            f"INNER JOIN {quote(User._meta.db_table)} u "
            f"ON u.{quote(User._meta.pk.column)} = t.{quote(Token._meta.get_field('user').column)} "
            f"LEFT OUTER JOIN {quote(TokenActivity._meta.db_table)} a "
            f"ON a.{quote(TokenActivity._meta.pk.column)} = t.{token_key} "
            f"WHERE t.{token_key} = %s"
        )

    def convert(self, row: tuple[Any, ...], alias: str) -> list[Any]:
        values = list(row)
        connection = connections[alias]
        for index, converters, column in self.converters:
            for converter in converters:
                values[index] = converter(values[index], column, connection)
        return values


_LOOKUPS: dict[str, _Lookup] = {}


def token_with_user(key: str) -> Token | None:
    """``Token.objects.select_related("user", "activity").get(key=key)`` in one precompiled
    statement; ``None`` when no token has that key."""
    alias = router.db_for_read(Token) or "default"
    lookup = _LOOKUPS.get(alias)
    if lookup is None:
        lookup = _LOOKUPS[alias] = _Lookup(alias)
    with connections[alias].cursor() as cursor:
        cursor.execute(lookup.sql, [key])
        row = cursor.fetchone()
    if row is None:
        return None
    values = lookup.convert(row, alias)
    token_names, user_names, activity_names = lookup.names
    split_user = len(token_names)
    split_activity = split_user + len(user_names)
    token = Token.from_db(alias, token_names, values[:split_user])
    user = User.from_db(alias, user_names, values[split_user:split_activity])
    activity_values = values[split_activity:]
    activity = (
        TokenActivity.from_db(alias, activity_names, activity_values)
        if activity_values[0] is not None
        else None
    )
    Token._meta.get_field("user").set_cached_value(token, user)
    # The reverse one-to-one: a cached None makes ``token.activity`` raise DoesNotExist, as after
    # ``select_related`` of a token without its row.
    TokenActivity._meta.get_field("token").remote_field.set_cached_value(token, activity)
    if activity is not None:
        TokenActivity._meta.get_field("token").set_cached_value(activity, token)
    return token


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's token header; a key idle longer than ``API_TOKEN_IDLE_DAYS`` answers 401.

    An expired key is deleted when it is presented, so it can never come back to life and
    the next ``POST /api/auth/token/`` issues a fresh one.
    """

    def authenticate_credentials(self, key: str) -> tuple[Any, Token]:
        token = token_with_user(key)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
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
