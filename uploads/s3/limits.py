"""S3's own limits (AWS's documented quotas), written once for the whole project."""

MIB = 1024**2

MAX_SINGLE_UPLOAD = 5 * 1024**3  # one POST or PUT, and one part of a multipart upload
MAX_OBJECT_SIZE = 5 * 1024**4
MIN_PART_SIZE = 5 * MIB  # every part of a multipart upload but the last
MAX_PARTS = 10_000
DELETE_BATCH = 1000  # keys a DeleteObjects takes
LIST_PAGE = 1000  # entries a listing (objects, parts, multipart uploads) answers a page
SIGV4_MAX_EXPIRATION = 7 * 24 * 3600  # the longest a SigV4 presigned URL lives
