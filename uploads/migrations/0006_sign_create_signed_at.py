from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("uploads", "0005_usage_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="upload",
            name="create_signed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
