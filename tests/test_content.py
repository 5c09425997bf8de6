"""The content rule: a file's first bytes, named by libmagic, against the type declared for it."""

import io
import struct
import sys
import zipfile
import zlib
from pathlib import Path

import pytest

from uploads.content import libmagic_problem, type_problem
from uploads.errors import ObjectTypeMismatch


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0\xff\0\0"))
        + chunk(b"IEND", b"")
    )


def zip_archive() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "hello")
    return buffer.getvalue()


HTML = b"<!DOCTYPE html>\n<html><body><script>alert(document.domain)</script></body></html>\n"
BARE_SCRIPT = b"<script>alert(document.domain)</script>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\0" * 64 + b"\xff\xd9"
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
MP4 = (
    struct.pack(">I", 24)
    + b"ftypisom"
    + struct.pack(">I", 512)
    + b"isomiso2"
    + struct.pack(">I", 8)
    + b"free"
)
# A Windows executable's headers: the DOS stub's "MZ", then "PE" and an x86-64 COFF header.
PE = (
    b"MZ"
    + b"\0" * 58
    + struct.pack("<I", 64)
    + b"PE\0\0"
    + struct.pack("<HHIIIHH", 0x8664, 0, 0, 0, 0, 0xF0, 0x22)
)
PE += b"\0" * 240
ELF = Path(sys.executable).read_bytes()[:4096]  # this Python: an ELF (Linux) or Mach-O (macOS) executable
TEXT = b"hello, S3\nthis is a plain text file\n"
CSV = b"name,size,type\nreport.pdf,1024,application/pdf\ncat.png,2048,image/png\n"

REAL_FILES = [
    ("image/png", png()),
    ("image/jpeg", JPEG),
    ("application/pdf", PDF),
    ("application/zip", zip_archive()),
    ("video/mp4", MP4),
    ("text/plain", TEXT),
    ("text/csv", CSV),
    ("application/json", b'{"a": [1, 2, 3]}\n'),
    ("text/html", HTML),
    ("image/svg+xml", SVG),
]


@pytest.mark.parametrize(("declared", "head"), REAL_FILES)
def test_a_file_whose_content_is_its_declared_type_passes(declared, head):
    assert type_problem(declared=declared, head=head) is None


@pytest.mark.parametrize("head", [HTML, BARE_SCRIPT, SVG])
def test_markup_declared_as_an_image_is_a_mismatch(head):
    assert isinstance(type_problem(declared="image/png", head=head), ObjectTypeMismatch)


@pytest.mark.parametrize("head", [PE, ELF])
def test_an_executable_declared_as_a_pdf_is_a_mismatch(head):
    problem = type_problem(declared="application/pdf", head=head)

    assert isinstance(problem, ObjectTypeMismatch)
    assert "application/pdf" in str(problem)


def test_html_declared_as_plain_text_is_a_mismatch():
    assert type_problem(declared="text/plain", head=HTML) is not None


def test_a_png_declared_as_a_jpeg_is_a_mismatch():
    assert type_problem(declared="image/jpeg", head=png()) is not None


@pytest.mark.parametrize("declared", ["text/csv", "text/markdown", "application/pdf", "image/png"])
def test_text_the_library_cannot_name_leaves_the_declared_type_standing(declared):
    # Plain text and CSV are "text/plain" to libmagic: nothing contradicts the declared type.
    assert type_problem(declared=declared, head=CSV) is None


def test_bytes_with_no_strong_signature_leave_the_declared_type_standing():
    # libmagic calls these bytes a Targa image (a weak signature); random bytes it calls data.
    assert type_problem(declared="application/x-custom", head=bytes(range(256)) * 4) is None


def test_octet_stream_claims_nothing_so_nothing_contradicts_it():
    assert type_problem(declared="application/octet-stream", head=PE) is None


@pytest.mark.parametrize(
    ("declared", "head"),
    [
        ("image/jpg", JPEG),
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", zip_archive()),
    ],
)
def test_aliases_and_container_families_match(declared, head):
    assert type_problem(declared=declared, head=head) is None


def test_libmagic_is_loaded():
    assert libmagic_problem() is None
