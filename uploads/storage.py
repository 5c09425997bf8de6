"""The storage behind `Upload.file`: django-storages' S3 backend, configured like S3Client."""

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
        showing a script-capable file inline."""
        serving = serving_for(guess_content_type(name), name.rsplit("/", 1)[-1])
        return S3Client().presigned_get_url(
            key=name,
            expires_in=expire or self.querystring_expire,
            content_type=serving.content_type,
            content_disposition=serving.disposition,
        )
