import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from linli.errors import DomainError
from workorders import services as wo
from workorders.models import Attachment, Source, WorkOrder
from workorders.testing import make_categories

pytestmark = pytest.mark.django_db


def _jpeg(name="photo.jpg", size=(800, 600)):
    out = io.BytesIO()
    Image.new("RGB", size, (200, 80, 40)).save(out, "JPEG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def _report(world, cats, files):
    return wo.report(
        world.resident1, category=cats["litter"], source=Source.PORTAL, lat=31.305, lng=120.605,
        attributes={"amount": "small"}, files=files,
    )


def test_a_photo_is_stored_with_a_thumbnail(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    cats = make_categories(world)
    order = _report(world, cats, [_jpeg()])
    att = Attachment.objects.get(order=order)
    assert att.content_type == "image/jpeg" and att.role == "before"
    with Image.open(att.thumbnail.path) as thumb:
        assert max(thumb.size) == 320


def test_an_oversize_video_is_refused_and_nothing_is_created(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.LINLI_MAX_VIDEO_BYTES = 1024
    cats = make_categories(world)
    video = SimpleUploadedFile("clip.mp4", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 4096, content_type="video/mp4")
    with pytest.raises(DomainError) as err:
        _report(world, cats, [video])
    assert err.value.code == "upload_too_large"
    assert "clip.mp4" in err.value.as_dict()["message"]
    assert WorkOrder.objects.count() == 0 and Attachment.objects.count() == 0


def test_a_file_is_judged_by_its_content_not_its_name(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    cats = make_categories(world)
    fake = SimpleUploadedFile("photo.jpg", b"MZ\x90\x00 not really a photo", content_type="image/jpeg")
    with pytest.raises(DomainError) as err:
        _report(world, cats, [fake])
    assert err.value.code == "upload_type"
    assert WorkOrder.objects.count() == 0
