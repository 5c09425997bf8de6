from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("uploads", "0009_pipeline"),
    ]

    operations = [
        migrations.AddField(
            model_name="upload",
            name="declared_sha256",
            field=models.CharField(blank=True, max_length=44),
        ),
        migrations.AddField(
            model_name="upload",
            name="checksum_sha256",
            field=models.CharField(
                blank=True,
                help_text="SHA-256 of the stored bytes (base64), computed by the worker.",
                max_length=44,
            ),
        ),
        # Uploads from before scanning existed were served unscanned: they read as "skipped".
        migrations.AddField(
            model_name="upload",
            name="scan",
            field=models.CharField(
                choices=[
                    ("pending", "Pending"),
                    ("clean", "Clean"),
                    ("infected", "Infected"),
                    ("error", "Scanner error"),
                    ("skipped", "Not scanned (no scanner)"),
                ],
                default="skipped",
                max_length=8,
            ),
        ),
        migrations.AlterField(
            model_name="upload",
            name="scan",
            field=models.CharField(
                choices=[
                    ("pending", "Pending"),
                    ("clean", "Clean"),
                    ("infected", "Infected"),
                    ("error", "Scanner error"),
                    ("skipped", "Not scanned (no scanner)"),
                ],
                default="pending",
                max_length=8,
            ),
        ),
    ]
