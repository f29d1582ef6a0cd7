"""The configuration forms refuse out-of-range values next to the field, at their exact bounds,
and their inputs carry the bounds (min/max/step) for the browser; the rule preview runs on
valid input only and otherwise answers with the field's error in its slot."""

import pytest
from django.urls import reverse

from metrics.forms import CapForm, TargetForm, WeightForm
from public_pool.manage_forms import RuleForm, WeightsForm

RULE = {"name": "Quiet", "enabled": "on", "priority": "100", "warn_days": "3", "no_followup_days": "30"}


@pytest.mark.parametrize(
    ("field", "value", "valid"),
    [
        ("no_followup_days", "-3", False),
        ("no_followup_days", "0", False),
        ("no_followup_days", "1", True),
        ("no_followup_days", "3650", True),
        ("no_followup_days", "3651", False),
        ("no_deal_days", "0", False),
        ("no_deal_days", "1", True),
        ("no_deal_days", "3651", False),
        ("warn_days", "-1", False),
        ("warn_days", "0", True),
        ("warn_days", "365", True),
        ("warn_days", "366", False),
        ("priority", "-1", False),
        ("priority", "0", True),
        ("priority", "32767", True),
        ("priority", "32768", False),
        ("no_followup_days", "2.5", False),
    ],
)
def test_rule_form_bounds(db, field, value, valid):
    form = RuleForm({**RULE, field: value})

    assert form.is_valid() is valid, form.errors
    if not valid:
        assert list(form.errors) == [field]


def test_rule_form_inputs_carry_their_bounds(db):
    html = str(RuleForm()["no_followup_days"])

    assert 'type="number"' in html
    assert 'min="1"' in html
    assert 'max="3650"' in html
    assert 'step="1"' in html
    assert 'max="365"' in str(RuleForm()["warn_days"])


def _weights(**overrides):
    form = WeightsForm()
    data = {
        name: str(field.initial if field.initial is not None else 50) for name, field in form.fields.items()
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("field", "value", "valid"),
    [
        ("level_weight", "-1", False),
        ("level_weight", "0", True),
        ("level_weight", "100", True),
        ("level_weight", "101", False),
        ("industry_scores__software", "-1", False),
        ("industry_scores__software", "0", True),
        ("industry_scores__software", "100", True),
        ("industry_scores__software", "101", False),
        ("recency_horizon_days", "0", False),
        ("recency_horizon_days", "1", True),
        ("recency_horizon_days", "3650", True),
        ("recency_horizon_days", "3651", False),
    ],
)
def test_priority_weights_form_bounds(db, field, value, valid):
    form = WeightsForm(_weights(**{field: value}))

    assert form.is_valid() is valid, form.errors
    if not valid:
        assert list(form.errors) == [field]


def test_priority_weights_inputs_carry_their_bounds_and_the_values_names():
    form = WeightsForm()
    html = str(form["level_scores__A"])

    assert ('min="0"' in html, 'max="100"' in html, 'step="1"' in html) == (True, True, True)
    assert str(form["level_scores__A"].label) == "A – key account"
    assert str(form["source_scores__trade_show"].label) == "Trade show"


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("-3", False),
        ("0", False),
        ("0.0001", True),
        ("99999999999999.9999", True),
        ("100000000000000", False),
    ],
)
def test_kpi_target_bounds(value, valid):
    form = TargetForm({"kpi": "sales", "target": value})

    assert form.is_valid() is valid, form.errors
    if not valid:
        assert list(form.errors) == ["target"]


@pytest.mark.parametrize(
    ("value", "valid"), [("-0.01", False), ("0", True), ("100", True), ("100.01", False), ("12.345", False)]
)
def test_scorecard_weight_bounds(value, valid):
    form = WeightForm({"kpi": "sales", "weight": value})

    assert form.is_valid() is valid, form.errors


@pytest.mark.parametrize(
    ("value", "valid"), [("99.99", False), ("100", True), ("1000", True), ("1000.01", False)]
)
def test_scorecard_cap_bounds(value, valid):
    form = CapForm({"cap": value})

    assert form.is_valid() is valid, form.errors
    if not valid:
        assert "The cap must be between 100 % and 1000 %." in form.errors["cap"]


def test_the_preview_refuses_minus_three_days_beside_the_field_and_counts_nothing(client, admin_user):
    from tests.factories import PoolFactory

    pool = PoolFactory()
    client.force_login(admin_user)

    response = client.post(
        reverse("pool_manage:rule_preview", args=[pool.pk]), {**RULE, "no_followup_days": "-3"}
    )

    body = response.content.decode()
    assert response.context["preview"] is None
    assert 'data-testid="due-now"' not in body
    slot = body.split('id="id_no_followup_days_errors"', 1)[1].split("</div>", 1)[0]
    assert 'hx-swap-oob="true"' in slot
    assert "Ensure this value is greater than or equal to 1." in slot
    # Every other field's slot comes back empty, so errors fixed meanwhile disappear.
    assert 'id="id_warn_days_errors" data-errors-for="id_warn_days" hx-swap-oob="true"></div>' in body


def test_the_rule_page_has_an_error_slot_beside_each_field_and_units(client, admin_user):
    from tests.factories import PoolFactory

    pool = PoolFactory()
    client.force_login(admin_user)

    body = client.get(reverse("pool_manage:rule_create", args=[pool.pk])).content.decode()

    assert 'id="id_no_followup_days_errors"' in body
    assert 'id="rule-form" novalidate' in body
    assert body.count('<span class="input-group-text">days</span>') == 3
