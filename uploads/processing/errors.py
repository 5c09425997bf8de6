"""Why processing refused a file: a sentence stored on the upload (`processing_error`)."""


class ProcessingRefused(Exception):
    """The file can't be processed (unreadable, a decompression bomb, too long): processing
    `failed`, for good. The upload itself stays complete: its bytes are what the user sent.

    `checksum_sha256` and `scan` carry what the trust steps found before the refusal (the pipeline
    fills them in), so they are recorded all the same: a clean file stays served."""

    def __init__(self, reason: str, *, scan: str | None = None, checksum_sha256: str = ""):
        super().__init__(reason)
        self.scan = scan
        self.checksum_sha256 = checksum_sha256


class UploadRefused(ProcessingRefused):
    """The stored bytes must not be kept (altered on the way, malware): the upload itself becomes
    `failed` with `failure_code` (uploads/failures.py) and its object is removed."""

    def __init__(self, failure_code: str, reason: str, *, scan: str | None = None, checksum_sha256: str = ""):
        super().__init__(reason, scan=scan, checksum_sha256=checksum_sha256)
        self.failure_code = failure_code
