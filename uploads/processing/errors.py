"""Why processing refused a file: a sentence stored on the upload (`processing_error`)."""


class ProcessingRefused(Exception):
    """The file can't be processed (unreadable, a decompression bomb, too long): processing
    `failed`, for good. The upload itself stays complete: its bytes are what the user sent."""


class UploadRefused(ProcessingRefused):
    """The stored bytes must not be kept (altered on the way, malware): the upload itself becomes
    `failed` with `failure_code` (uploads/failures.py) and its object is removed."""

    def __init__(self, failure_code: str, reason: str, *, scan: str | None = None, checksum_sha256: str = ""):
        super().__init__(reason)
        self.failure_code = failure_code
        self.scan = scan
        self.checksum_sha256 = checksum_sha256  # what the stored bytes hash to, recorded all the same
