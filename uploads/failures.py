"""Why an upload failed: the catalogue of stable `failure_code`s and the sentence each one shows.

A failed record keeps its code (for scripts: the API's `failure_code`) and a sentence for people
(`failure_reason`: the page's row, the admin, the API). The sentence is the precise one the
check produced when there is one ("The file's content is text/html, not the image/png
declared."), else the catalogue's. Set only through `lifecycle.transition(..., failure_code=…)`.
"""

from __future__ import annotations

FAILURES: dict[str, str] = {
    # Complete, cleanup or the no-JS finish looked at the stored object and refused it.
    "object_missing": "No file arrived before the upload link expired.",
    "object_too_large": "The stored file is larger than allowed.",
    "object_size_mismatch": "The stored file's size differs from the declared one.",
    "object_empty": "The stored file is empty.",
    "object_type_mismatch": "The file's content is not of the type declared.",
    "object_invalid": "The stored file breaks the upload's rules.",
    "content_type_not_allowed": "This type of file is not accepted.",
    "quota_exceeded": "The file would have taken you over your storage quota.",
    # Multipart uploads: the parts did not make up the declared file.
    "multipart_invalid": "The uploaded parts do not make up the declared file.",
    "part_missing": "Some parts of the file never arrived in storage.",
    "part_size_mismatch": "A part's size differs from the one the server chose.",
    # After completion: `cleanup_uploads --verify` or the admin's check found no object.
    "object_gone": "The file was lost from storage after it was uploaded.",
    # The worker's trust step (uploads/processing/trust.py) refused the stored bytes.
    "checksum_mismatch": "The stored file's SHA-256 differs from the one your browser computed: it was altered on the way.",
    "infected": "The file contains malware.",
    # A caller failed it without saying why (the Python interface's `complete_upload(status="failed")`).
    "failed_by_caller": "The upload was marked failed by the application.",
}

UNKNOWN_FAILURE = "failed_by_caller"

# checksum_mismatch for one part of a multipart upload: which part was altered.
PART_CHECKSUM_MISMATCH = "Part {number} of the stored file differs from the SHA-256 your browser computed: it was altered on the way."


def failure_reason(code: str) -> str:
    """The catalogue's sentence for `code` (an unknown code reads as the generic one)."""
    return FAILURES.get(code, FAILURES[UNKNOWN_FAILURE])


def failure_of(error: Exception) -> dict[str, str]:
    """The failure fields for an `UploadError`: its code if catalogued, and its own precise sentence."""
    code = getattr(error, "code", "")
    if code not in FAILURES:
        return {"failure_code": "object_invalid", "failure_reason": str(error) or FAILURES["object_invalid"]}
    return {"failure_code": code, "failure_reason": str(error) or FAILURES[code]}
