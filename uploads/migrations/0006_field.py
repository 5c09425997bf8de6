from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("uploads", "0005_usage_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="upload",
            name="for_field",
            field=models.CharField(blank=True, default="", max_length=255),
        ),
    ]
