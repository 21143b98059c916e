"""The photo corpus of docs/security.md §22-§26, through media.ingest (the one intake every
upload uses) and the upload form. Files tried: see ACCEPTED and REFUSED below
(4 accepted formats + 4 variants, 24 refused files, 4 over-size images)."""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from directory.extensions import db
from directory.models import Photo
from directory.services import media
from tests.factories import image_bytes

ROOT = Path(__file__).resolve().parents[2]


def heic_bytes(size=(64, 48)) -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    Image.open(io.BytesIO(image_bytes("PNG", size=size, seed=3))).save(out, "HEIF")
    return out.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares a huge canvas but carries almost no data (a bomb's shape)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + png_chunk(b"IEND", b"")
    )


def jpeg_with_size(width: int, height: int) -> bytes:
    """A real small JPEG whose SOF header is patched to claim a huge size."""
    data = bytearray(image_bytes("JPEG", size=(16, 16)))
    i = data.index(b"\xff\xc0")
    data[i + 5 : i + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def zlib_bomb_png(width: int, height: int) -> bytes:
    """A PNG whose image data really inflates to width*height*3 bytes of zeros."""
    raw_row = b"\x00" + b"\x00" * (width * 3)
    comp = zlib.compressobj(9)
    body = b"".join(comp.compress(raw_row) for _ in range(height)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", body)
        + png_chunk(b"IEND", b"")
    )


ACCEPTED = {
    "jpeg": lambda: image_bytes("JPEG"),
    "png": lambda: image_bytes("PNG"),
    "png_rgba": lambda: _rgba_png(),
    "webp": lambda: image_bytes("WEBP"),
    "webp_lossless": lambda: image_bytes("WEBP", lossless=True),
    "heic": heic_bytes,
    "jpeg_progressive": lambda: image_bytes("JPEG", progressive=True),
    "png_palette": lambda: _palette_png(),
}


def _rgba_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (30, 30), (10, 20, 30, 128)).save(out, "PNG")
    return out.getvalue()


def _palette_png() -> bytes:
    out = io.BytesIO()
    Image.open(io.BytesIO(image_bytes("PNG"))).convert("P").save(out, "PNG")
    return out.getvalue()


def _tiff() -> bytes:
    return image_bytes("TIFF")


REFUSED = {
    "html": b"<!doctype html><html><body><script>alert(1)</script></body></html>",
    "svg": b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>',
    "svg_xml_prolog": b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>',
    "pdf": b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF",
    "gif": image_bytes("GIF"),
    "gif_anim_header": b"GIF89a" + b"\x00" * 64,
    "tiff": _tiff(),
    "bmp": image_bytes("BMP"),
    "ico": image_bytes("ICO", size=(32, 32)),
    "zero_bytes": b"",
    "one_byte": b"\xff",
    "jpeg_magic_only": b"\xff\xd8\xff\xe0",
    "truncated_jpeg": image_bytes("JPEG", size=(200, 150))[:300],
    "truncated_png": image_bytes("PNG", size=(200, 150))[:120],
    "truncated_webp": image_bytes("WEBP", size=(200, 150))[:60],
    "truncated_heic": heic_bytes((200, 150))[:200],
    "jpeg_then_html_polyglot": b"\xff\xd8\xff\xe0" + b"<html><script>alert(1)</script></html>",
    "png_magic_then_garbage": b"\x89PNG\r\n\x1a\n" + os.urandom(200),
    "riff_not_webp": b"RIFF\x00\x00\x00\x00WAVEfmt " + b"\x00" * 40,
    "php_script": b"<?php system($_GET['c']); ?>",
    "zip": b"PK\x03\x04" + b"\x00" * 60,
    "exe": b"MZ" + b"\x00" * 100,
    "text": b"just some text about my scalp",
    "utf16_html": "<html></html>".encode("utf-16"),
}

# Double extensions: the name never decides, the content does.
DOUBLE_EXTENSIONS = [
    ("photo.jpg.html", REFUSED["html"]),
    ("photo.php.jpg", REFUSED["php_script"]),
    ("photo.png.svg", REFUSED["svg"]),
    ("photo.svg.png", REFUSED["svg"]),
    ("invoice.pdf.jpeg", REFUSED["pdf"]),
    ("x.jpg%00.html", REFUSED["html"]),
]

OVERSIZE = {
    "png_header_bomb_30000x30000": lambda: png_header_only(30000, 30000),
    "jpeg_sof_65000x65000": lambda: jpeg_with_size(65000, 65000),
    "png_over_app_cap_7000x7000": lambda: png_header_only(7000, 7000),
    "zlib_bomb_png_6400x6400": lambda: zlib_bomb_png(6400, 6400),
}


def read(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


def count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def media_files(app) -> list[str]:
    folder = app.config["MEDIA_DIR"]
    return sorted(os.listdir(folder)) if os.path.exists(folder) else []


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_accepted_formats_are_stored_as_clean_jpeg(app, name):
    with app.app_context():
        photo = media.ingest(ACCEPTED[name](), uploader_id=None, kind="review", consent=True)
        db.session.commit()
        stored = read(media.file_path(photo, "web"))
        assert stored[:3] == b"\xff\xd8\xff"
        with Image.open(io.BytesIO(stored)) as im:
            assert im.format == "JPEG" and im.mode == "RGB"
        assert len(photo.phash) == 16 and photo.status == "pending"


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_files_leave_no_row_and_no_file(app, name):
    with app.app_context():
        with pytest.raises(media.InvalidUpload):
            media.ingest(REFUSED[name], uploader_id=None, kind="review", consent=True)
        db.session.rollback()
        assert count(Photo) == 0
        assert media_files(app) == []


@pytest.mark.parametrize("name", sorted(OVERSIZE))
def test_bombs_and_over_cap_images_are_refused_quickly(app, name):
    data = OVERSIZE[name]()
    with app.app_context():
        start = time.perf_counter()
        with pytest.raises(media.InvalidUpload, match="too many pixels"):
            media.ingest(data, uploader_id=None, kind="review", consent=True)
        assert time.perf_counter() - start < 1.0
        db.session.rollback()
        assert count(Photo) == 0 and media_files(app) == []


PROBE = """
import resource, sys
from directory.services import media
data = open(sys.argv[1], "rb").read()
limits = media.Limits(15 * 1024 * 1024, 40_000_000, 1600, 360)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if sys.argv[2] == "decode":
    try:
        media.decode(data, limits)
    except media.InvalidUpload:
        pass
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
"""


@pytest.mark.parametrize("name", sorted(OVERSIZE))
def test_bombs_do_not_grow_memory(tmp_path, name):
    """Decoding in a fresh process: the peak RSS grows by less than 30 MB (a 6400x6400
    RGB decode alone would need 120 MB)."""
    path = tmp_path / "bomb"
    path.write_bytes(OVERSIZE[name]())
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(path), "decode"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    grown_kb = int(out.stdout.strip())
    assert grown_kb < 30 * 1024, f"{name}: peak RSS grew by {grown_kb} KB"


def test_file_over_byte_cap_is_refused(app_factory):
    app = app_factory(PHOTO_MAX_BYTES=10_000)
    with app.app_context(), pytest.raises(media.InvalidUpload, match="larger than"):
        media.ingest(
            image_bytes("PNG", size=(300, 300), seed=1) + b"\x00" * 10_000,
            uploader_id=None,
            kind="review",
            consent=True,
        )


def metadata_jpeg() -> bytes:
    """A JPEG carrying EXIF (orientation 6 and GPS), XMP and a COM comment."""
    im = Image.new("RGB", (80, 40), (250, 0, 0))
    im.paste((0, 0, 250), (0, 0, 40, 40))  # left half blue
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    exif[0x010F] = "SecretCam Maker"
    exif[0x9286] = "user comment"
    gps = {1: "N", 2: (51.0, 30.0, 26.0), 3: "W", 4: (0.0, 7.0, 39.0)}
    exif[0x8825] = gps
    out = io.BytesIO()
    im.save(
        out,
        "JPEG",
        exif=exif.tobytes(),
        comment=b"Patient: John Smith, DOB 1980",
        xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/">SecretXMPValue</x:xmpmeta>',
    )
    data = out.getvalue()
    assert b"Exif" in data and b"SecretXMPValue" in data and b"John Smith" in data
    return data


def _markers(data: bytes) -> list[int]:
    """The JPEG segment markers present before the image data."""
    markers, i = [], 2
    while i < len(data) - 4 and data[i] == 0xFF:
        marker = data[i + 1]
        markers.append(marker)
        if marker == 0xDA:
            break
        i += 2 + struct.unpack(">H", data[i + 2 : i + 4])[0]
    return markers


def test_metadata_is_gone_from_stored_bytes_and_orientation_applied(app):
    with app.app_context():
        photo = media.ingest(metadata_jpeg(), uploader_id=None, kind="review", consent=True)
        db.session.commit()
        for size in ("web", "thumb"):
            stored = read(media.file_path(photo, size))
            for needle in (
                b"Exif",
                b"SecretCam",
                b"SecretXMPValue",
                b"xmpmeta",
                b"http://ns.adobe.com",
                b"John Smith",
                b"Patient",
                b"GPS",
            ):
                assert needle not in stored, (size, needle)
            markers = _markers(stored)
            assert 0xFE not in markers  # COM
            assert 0xE1 not in markers  # APP1 (EXIF / XMP)
            with Image.open(io.BytesIO(stored)) as im:
                assert not im.info.get("exif") and "comment" not in im.info
                assert not im.getexif()
        assert (photo.width, photo.height) == (40, 80)  # turned upright
        with Image.open(media.file_path(photo, "web")) as im:
            top = im.convert("RGB").getpixel((20, 5))
            assert top[2] > 200 and top[0] < 60  # the blue half is now on top


def test_png_text_chunks_and_webp_exif_are_dropped(app):
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "Patient Jane Doe")
    out = io.BytesIO()
    Image.new("RGB", (20, 20), "white").save(out, "PNG", pnginfo=info)
    exif = Image.Exif()
    exif[0x010F] = "WebpSecretMaker"
    webp = io.BytesIO()
    Image.new("RGB", (20, 20), "white").save(webp, "WEBP", exif=exif.tobytes())
    with app.app_context():
        for data in (out.getvalue(), webp.getvalue()):
            photo = media.ingest(data, uploader_id=None, kind="review", consent=True)
            db.session.flush()
            stored = read(media.file_path(photo, "web"))
            assert b"Jane Doe" not in stored and b"WebpSecretMaker" not in stored
        db.session.commit()


def test_stored_names_are_random_and_say_nothing(app):
    with app.app_context():
        data = image_bytes()
        a = media.ingest(data, uploader_id=None, kind="review", consent=True)
        b = media.ingest(data, uploader_id=None, kind="review", consent=True)
        db.session.commit()
        assert a.storage_name != b.storage_name and a.thumb_name != b.thumb_name
        for name in (a.storage_name, b.storage_name):
            stem = name.removesuffix(".jpg")
            assert len(stem) >= 24 and stem.replace("-", "").replace("_", "").isalnum()
        assert (
            os.path.commonpath([media.file_path(a, "web"), app.instance_path]) == app.instance_path
        )


def test_rolled_back_transaction_leaves_no_rows_or_files(app):
    with app.app_context():
        media.ingest(image_bytes(seed=1), uploader_id=None, kind="review", consent=True)
        media.ingest(image_bytes(seed=2), uploader_id=None, kind="review", consent=True)
        db.session.flush()
        assert len(media_files(app)) == 8  # JPEG and WebP, large and thumbnail
        db.session.rollback()
        assert count(Photo) == 0 and media_files(app) == []


def test_consent_is_required(app):
    with app.app_context():
        with pytest.raises(media.InvalidUpload, match="agreed"):
            media.ingest(image_bytes(), uploader_id=None, kind="review", consent=False)
        assert media_files(app) == []


def test_corpus_size():
    """docs/security.md §22 asks for the number of files tried."""
    tried = len(ACCEPTED) + len(REFUSED) + len(DOUBLE_EXTENSIONS) + len(OVERSIZE) + 3
    assert tried >= 40
    print(
        f"photo corpus: {len(ACCEPTED)} accepted, {len(REFUSED)} refused by content, "
        f"{len(DOUBLE_EXTENSIONS)} double extensions, {len(OVERSIZE)} bombs/over-cap, "
        f"3 metadata fixtures: {tried} files"
    )
