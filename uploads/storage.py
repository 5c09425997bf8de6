"""The storage behind `Upload.file`: django-storages' S3 backend, configured like S3Client."""

from storages.backends.s3 import S3Storage

from .s3 import client_config


class UploadStorage(S3Storage):
    """S3Storage with the app's one boto3 configuration (SigV4, addressing, timeouts, checksums)."""

    def get_default_settings(self):
        return {**super().get_default_settings(), "client_config": client_config()}
