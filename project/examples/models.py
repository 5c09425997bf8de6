from django.conf import settings
from django.db import models

from uploads.fields import UploadField


class Document(models.Model):
    """A titled file: the file goes from the browser straight to S3 through UploadField's widget."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="documents")
    title = models.CharField(max_length=200)
    file = UploadField(
        max_size=20 * 1024 * 1024,
        content_types=["application/pdf", "image/*", "text/*"],
        prefix="documents",
    )

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title
