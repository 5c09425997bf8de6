"""The errors of the uploads app. Each carries a stable `code`; the edges map them to HTTP."""


class UploadError(Exception):
    code = "upload_error"
    default_message = "The upload could not be processed."

    def __init__(self, message: str | None = None):
        super().__init__(message or self.default_message)


class UploadNotFound(UploadError):
    code = "not_found"
    default_message = "No such upload."


class InvalidFilename(UploadError):
    code = "invalid_filename"
    default_message = "The file name is empty or not usable."


class InvalidContentType(UploadError):
    code = "invalid_content_type"
    default_message = "The content type is not a valid MIME type."


class InvalidChecksum(UploadError):
    code = "invalid_checksum"
    default_message = "A checksum must be the base64 of a SHA-256 digest (44 characters)."


class InvalidSize(UploadError):
    code = "invalid_size"
    default_message = "The size must be a positive number of bytes."


class UploadTooLarge(UploadError):
    code = "upload_too_large"
    default_message = "The file is larger than allowed."


class QuotaExceeded(UploadError):
    code = "quota_exceeded"
    default_message = "This file would take you over your storage quota."


class TooManyPending(UploadError):
    code = "too_many_pending"
    default_message = "Too many uploads are pending; complete or cancel some first."


class InvalidPage(UploadError):
    code = "invalid_page"
    default_message = "No such page."


class InvalidCursor(UploadError):
    code = "invalid_cursor"
    default_message = "This cursor is not valid for this list."


class ContentTypeNotAllowed(UploadError):
    code = "content_type_not_allowed"
    default_message = "This type of file is not accepted."


class InvalidExpiration(UploadError):
    code = "invalid_expiration"
    default_message = "The expiration is out of range."


class UploadNotComplete(UploadError):
    code = "upload_not_complete"
    default_message = "The upload has not been completed."


class UploadFailed(UploadError):
    code = "upload_failed"
    default_message = "The upload failed and cannot be completed."


class ScanPending(UploadError):
    """A scanner is set and the file has not been found clean yet (uploads/processing/trust.py)."""

    code = "scan_pending"
    default_message = "The file is being checked for malware; try again in a moment."


class Infected(UploadError):
    code = "infected"
    default_message = "The file contains malware and was removed."


class ObjectMissing(UploadError):
    code = "object_missing"
    default_message = "The file has not arrived in storage."


class ObjectInvalid(UploadError):
    """The stored object breaks the upload's rules; it has been deleted."""

    code = "object_invalid"


class ObjectTooLarge(ObjectInvalid):
    code = "object_too_large"
    default_message = "The stored file is larger than allowed."


class ObjectSizeMismatch(ObjectInvalid):
    code = "object_size_mismatch"
    default_message = "The stored file's size differs from the declared one."


class ObjectEmpty(ObjectInvalid):
    code = "object_empty"
    default_message = "The stored file is empty."


class ObjectTypeMismatch(ObjectInvalid):
    code = "object_type_mismatch"
    default_message = "The stored file's type differs from the declared one."


class StorageUnavailable(UploadError):
    code = "storage_unavailable"
    default_message = "The storage service could not be reached."


class NotSupportedByStore(StorageUnavailable):
    """The store does not implement this API (MinIO, SeaweedFS and R2 each lack some)."""

    code = "not_supported_by_store"
    default_message = "This store does not support that operation."


class InvalidCleanupOption(UploadError):
    code = "invalid_cleanup_option"
    default_message = "A cleanup option would touch uploads that may still be in flight."


# --- Multipart uploads (uploads/multipart.py) ---------------------------------------------------


class MultipartInvalid(ObjectInvalid):
    """The parts in the store break the upload's plan; the multipart upload has been aborted."""

    code = "multipart_invalid"
    default_message = "The uploaded parts do not make up the declared file."


class PartMissing(MultipartInvalid):
    code = "part_missing"
    default_message = "Some parts of the file have not arrived in storage."


class PartSizeMismatch(MultipartInvalid):
    code = "part_size_mismatch"
    default_message = "A part's size differs from the one the server chose."


class NotMultipart(UploadError):
    code = "not_multipart"
    default_message = "This upload is not a multipart upload, or no longer accepts parts."


class InvalidPartNumbers(UploadError):
    code = "invalid_part_numbers"
    default_message = "The part numbers are out of range."


class SignRefused(UploadError):
    """A signing request for another key, or for an operation the server does not sign."""

    code = "sign_refused"
    default_message = "The server does not sign this request."


class MultipartUploadMismatch(UploadError):
    code = "multipart_upload_mismatch"
    default_message = "This is not the multipart upload of this upload."


class MultipartAlreadyStarted(UploadError):
    """CreateMultipartUpload is signed once per upload: one multipart upload, one plan."""

    code = "multipart_already_started"
    default_message = "This upload's multipart upload has already been signed; sign its parts."


class UploadExpired(UploadError):
    """The upload's policy has expired: nothing more is signed for it."""

    code = "upload_expired"
    default_message = "This upload's link has expired; start the upload again."


class InvalidFieldToken(UploadError):
    """The upload field's signed description (uploads/field_signing.py) is not one this site made."""

    code = "invalid_field"
