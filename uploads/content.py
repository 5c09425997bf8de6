"""What a stored file really is: its first bytes, named by libmagic, against the type declared for it.

Pure functions over bytes and types: no database, no network (services and cleanup fetch the bytes
with one ranged GET, `S3Client.sample`, for `inspection.inspect`).

Why libmagic (python-magic over Debian's `libmagic1`): tried on real files (an HTML page and a bare
`<script>` declared as image/png, an ELF and a PE executable declared as application/pdf, real
PNG, JPEG, GIF, PDF, ZIP and MP4 files, plain text, CSV, JSON), it alone named every one: HTML
even without `<html>`, SVG, CSV and the executables. `filetype` (pure Python) names no text format
at all, so HTML declared as image/png passes it; `puremagic` 1.x (2.x needs Python 3.12) misses
ELF and PE executables and calls any ZIP a .docx. libmagic is `file(1)`'s own library, its
database maintained upstream and patched by the distribution; identifying a 4 KiB head costs
about 0.1 ms (0.7 ms for text, which it tests against more rules).

The rule, one verdict per file:
- A declared `application/octet-stream` claims nothing, so nothing contradicts it.
- Markup (HTML, SVG, XML, XHTML, JavaScript: validation's script-capable types) is accepted only
  under a script-capable declared type, which is never served inline.
- What libmagic can't name for certain, the declared type stands for: bytes it has no signature
  for (`application/octet-stream`), text that is not markup (plain text, CSV, JSON, Markdown,
  source code), and formats it guesses from weak signatures (arbitrary bytes can look like a
  Targa image or an MP3 frame). Such content renders as nothing but itself under any declared
  type, and is served by that type's rules (only inline-safe types inline).
- A format with a strong signature (`STRONG_SIGNATURES`: executables, PDF, archives, Office
  files, the common images and media containers) must be the declared one, allowing for aliases
  (image/jpg), for container families (a .docx is a ZIP, an .m4a an MP4) and, within audio/* or
  video/*, for codec names.
A file whose content contradicts its declared type fails with `ObjectTypeMismatch`.
"""

from __future__ import annotations

from functools import cache

# validation decides which types are script-capable; its matcher reads the patterns the same way.
from .content_types import DEFAULT_CONTENT_TYPE
from .errors import ObjectTypeMismatch
from .serving import is_script_capable

# Enough for every signature we compare (ZIP's first entry name, MP4's brands, PE's header).
HEAD_BYTES = 4096

# Other names of one type: browsers, operating systems and libmagic each have their favourites.
ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "image/x-png": "image/png",
    "image/x-ms-bmp": "image/bmp",
    "image/x-bmp": "image/bmp",
    "image/vnd.microsoft.icon": "image/x-icon",
    "application/x-pdf": "application/pdf",
    "application/x-zip-compressed": "application/zip",
    "application/x-zip": "application/zip",
    "application/x-gzip": "application/gzip",
    "audio/mp3": "audio/mpeg",
    "audio/x-mp3": "audio/mpeg",
    "audio/wav": "audio/x-wav",
    "audio/wave": "audio/x-wav",
    "audio/vnd.wave": "audio/x-wav",
    "audio/x-flac": "audio/flac",
    "audio/x-hx-aac-adts": "audio/aac",
    "text/xml": "application/xml",
}

# Formats that are containers of others: a file of any member type may be named as any other.
FAMILIES = [
    # ZIP: Office Open XML, OpenDocument, EPUB, JAR, APK.
    frozenset(
        {
            "application/zip",
            "application/epub+zip",
            "application/java-archive",
            "application/vnd.android.package-archive",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "application/vnd.oasis.opendocument.text",
            "application/vnd.oasis.opendocument.spreadsheet",
            "application/vnd.oasis.opendocument.presentation",
        }
    ),
    # OLE compound files: legacy Office documents, MSI.
    frozenset(
        {
            "application/x-ole-storage",
            "application/cdfv2",
            "application/msword",
            "application/vnd.ms-excel",
            "application/vnd.ms-powerpoint",
            "application/vnd.ms-outlook",
            "application/x-msi",
        }
    ),
    # ISO base media files: MP4, QuickTime, 3GP, HEIF/AVIF images.
    frozenset(
        {
            "video/mp4",
            "audio/mp4",
            "audio/x-m4a",
            "video/x-m4v",
            "application/mp4",
            "video/quicktime",
            "video/3gpp",
            "video/3gpp2",
            "audio/3gpp",
            "image/heic",
            "image/heif",
            "image/avif",
        }
    ),
    frozenset({"application/ogg", "audio/ogg", "video/ogg", "audio/opus"}),
    frozenset({"video/webm", "audio/webm", "video/x-matroska", "audio/x-matroska"}),
    # Executables go by many names; declared as one of them, an executable is what it says.
    frozenset(
        {
            "application/x-executable",
            "application/x-sharedlib",
            "application/x-pie-executable",
            "application/x-mach-binary",
            "application/x-dosexec",
            "application/x-msdownload",
            "application/vnd.microsoft.portable-executable",
        }
    ),
]

# Formats libmagic names from signatures that random bytes practically never carry (magic numbers
# of four bytes or more at offset 0, or structures it parses): naming one is evidence.
STRONG_SIGNATURES = frozenset(
    {
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "image/tiff",
        "application/pdf",
        "application/gzip",
        "application/x-bzip2",
        "application/x-xz",
        "application/x-7z-compressed",
        "application/x-rar",
        "application/vnd.rar",
        "application/x-sqlite3",
        "audio/flac",
        "audio/x-wav",
        "video/x-msvideo",
    }
).union(*FAMILIES)


def canonical(content_type: str) -> str:
    content_type = content_type.lower()
    return ALIASES.get(content_type, content_type)


def identify(head: bytes) -> str:
    """Return the MIME type libmagic names for these bytes (canonical)."""
    return canonical(_libmagic().from_buffer(head))


def type_problem(*, declared: str, head: bytes) -> ObjectTypeMismatch | None:
    """Whether the first bytes of a file contradict its declared type (see the module's rule)."""
    declared = canonical(declared)
    found = identify(head)
    if declared == DEFAULT_CONTENT_TYPE or found == declared:
        return None
    if is_script_capable(found):
        if is_script_capable(declared):
            return None
    elif found not in STRONG_SIGNATURES or _related(found, declared):
        return None
    return ObjectTypeMismatch(f"The file's content is {found}, not the {declared} declared.")


def _related(found: str, declared: str) -> bool:
    if any(found in family and declared in family for family in FAMILIES):
        return True
    media = found.split("/")[0]
    return media in {"audio", "video"} and declared.split("/")[0] == media


def libmagic_problem() -> str | None:
    """Why libmagic can't be used here, or None when it works (the system check asks)."""
    try:
        _libmagic().from_buffer(b"%PDF-1.7\n")
    except (ImportError, OSError) as e:
        return str(e) or type(e).__name__
    return None


@cache
def _libmagic():
    # Imported on first use, so a missing libmagic1 fails the system check with a clear message
    # rather than every import of the app. python-magic serialises calls on one handle with a lock.
    import magic

    return magic.Magic(mime=True)
