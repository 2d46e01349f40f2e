"""Photos, short videos and documents attached to orders: checked by their content (not their
name), limited in size, images given a thumbnail. Files go to the default storage: local disk,
or S3-compatible storage in production (settings: LINLI_S3_BUCKET)."""

import io

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils.translation import gettext_lazy as _

from linli.errors import DomainError

MB = 1024 * 1024

# Leading bytes of each accepted kind → its content type.
_SIGNATURES = [
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
]


def sniff(head: bytes) -> str | None:
    for magic, content_type in _SIGNATURES:
        if head.startswith(magic):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"mif1", b"msf1"):
            return "image/heic"
        if brand == b"qt  ":
            return "video/quicktime"
        return "video/mp4"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "video/webm"
    return None


def limits() -> dict[str, int]:
    return {
        "image": getattr(settings, "LINLI_MAX_IMAGE_BYTES", 10 * MB),
        "video": getattr(settings, "LINLI_MAX_VIDEO_BYTES", 50 * MB),
        "application": getattr(settings, "LINLI_MAX_DOCUMENT_BYTES", 10 * MB),
    }


def check(upload) -> str:
    """The content type of an acceptable upload; a clear refusal otherwise."""
    name = getattr(upload, "name", "") or "file"
    upload.seek(0)
    head = upload.read(32)
    upload.seek(0)
    content_type = sniff(head)
    if content_type is None:
        raise DomainError(
            "upload_type",
            _("%(name)s is not a photo (JPEG, PNG, WebP, HEIC), a video (MP4, MOV, WebM) or a PDF."),
            field="files",
            name=name,
        )
    family = content_type.split("/")[0]
    limit = limits()[family]
    if upload.size > limit:
        raise DomainError(
            "upload_too_large",
            _("%(name)s is %(size)s MB; the limit for this kind of file is %(limit)s MB."),
            field="files",
            name=name,
            size=f"{upload.size / MB:.1f}",
            limit=limit // MB,
        )
    return content_type


def thumbnail(upload, content_type: str) -> ContentFile | None:
    """A 320-pixel JPEG thumbnail of an image (None for other files or unreadable images)."""
    if content_type not in ("image/jpeg", "image/png", "image/gif", "image/webp"):
        return None
    from PIL import Image, ImageOps

    try:
        upload.seek(0)
        with Image.open(upload) as img:
            img = ImageOps.exif_transpose(img)
            img.thumbnail((320, 320))
            out = io.BytesIO()
            img.convert("RGB").save(out, "JPEG", quality=80)
    except Exception:  # a corrupt image still uploads; it just has no thumbnail
        return None
    finally:
        upload.seek(0)
    return ContentFile(out.getvalue(), name="thumb.jpg")
