from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("uploads", "0007_quota"),
    ]

    operations = [
        migrations.AddField(
            model_name="upload",
            name="for_field",
            field=models.CharField(blank=True, default="", max_length=255),
        ),
    ]
