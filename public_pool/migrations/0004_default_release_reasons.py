from django.db import migrations

# (code, English label, Chinese label, order, requires a note). Admins edit the list later;
# rows are matched by code, so running this again (or after edits) changes nothing.
DEFAULT_REASONS = [
    ("no_need", "No need at the moment", "暂无需求", 10, False),
    ("no_budget", "No budget", "没有预算", 20, False),
    ("unreachable", "Cannot reach anyone", "联系不上", 30, False),
    ("competitor", "Went with a competitor", "已选择竞争对手", 40, False),
    ("wrong_info", "Wrong or duplicate information", "信息错误或重复", 50, False),
    ("not_our_market", "Not our target market", "不是目标客户", 60, False),
    ("other", "Other (explain in the note)", "其他（请在备注中说明）", 100, True),
]


def seed(apps, schema_editor):
    ReleaseReason = apps.get_model("public_pool", "ReleaseReason")
    for code, label, label_zh, order, requires_note in DEFAULT_REASONS:
        ReleaseReason.objects.get_or_create(
            code=code,
            defaults={"label": label, "label_zh": label_zh, "order": order, "requires_note": requires_note},
        )


class Migration(migrations.Migration):
    dependencies = [("public_pool", "0003_poolevent_append_only")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
