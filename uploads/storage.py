"""The storage behind `Upload.file`: django-storages' S3 backend, configured like S3Client, and the
field whose `.url` hands out a link only to bytes that may be served."""

from django.db import models
from django.db.models.fields.files import FieldFile
from storages.backends.s3 import S3Storage

from .content_types import guess_content_type
from .s3 import S3Client, client_config
from .serving import serving_for


class UploadStorage(S3Storage):
    """S3Storage with the app's one boto3 configuration (SigV4, addressing, timeouts, checksums)."""

    def get_default_settings(self):
        return {**super().get_default_settings(), "client_config": client_config()}

    def url(self, name, parameters=None, expire=None, http_method=None):
        """A presigned GET signed like the app's own links: for the browsers' endpoint, and never
        showing a script-capable file inline. It knows a key, not a record: `upload.file.url`
        (below) is the one that checks the upload may be served."""
        serving = serving_for(guess_content_type(name), name.rsplit("/", 1)[-1])
        return S3Client().presigned_get_url(
            key=name,
            expires_in=expire or self.querystring_expire,
            content_type=serving.content_type,
            content_disposition=serving.disposition,
        )


class UploadFieldFile(FieldFile):
    @property
    def url(self) -> str:
        """The upload's download link, as the API's /url gives it: raises its typed errors
        (`UploadNotComplete`, `ScanPending`, `Infected`) rather than link to bytes not yet served."""
        from .services import upload_download_url  # services imports the models, which import this

        self._require_file()
        return upload_download_url(upload=self.instance).url


class UploadFileField(models.FileField):
    """`Upload.file`: a FileField whose `.url` asks the record first (`UploadFieldFile`)."""

    attr_class = UploadFieldFile

    def deconstruct(self):
        # The same column as a plain FileField: migrations need not know the difference.
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.FileField", args, kwargs
