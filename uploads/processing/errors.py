"""Why processing refused a file: a sentence stored on the upload (`processing_error`)."""


class ProcessingRefused(Exception):
    """The file can't be processed (unreadable, a decompression bomb, too long): processing
    `failed`, for good. The upload itself stays complete: its bytes are what the user sent."""
