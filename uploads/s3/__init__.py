"""The S3 layer: the only package that talks to the store or imports boto3.

`S3Client` is its one entry point (`from uploads.s3 import S3Client`), its operations cut by
what they act on: objects, multipart uploads, whole-object transfers and the bucket's rules, over
one shared connection (`base.BucketClient`, `connection`). `limits` holds S3's own limits and
`results` the typed answers.
"""

from .client import S3Client
from .connection import clear_client_cache, client_config
from .results import BucketProbe, MultipartUpload, ObjectInfo, Part, SignedRequest, StoredSample

__all__ = [
    "BucketProbe",
    "MultipartUpload",
    "ObjectInfo",
    "Part",
    "S3Client",
    "SignedRequest",
    "StoredSample",
    "clear_client_cache",
    "client_config",
]
