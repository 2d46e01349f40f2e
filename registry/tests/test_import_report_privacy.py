"""The import report stays on the server: it masks personal data, and the upload is deleted."""

from registry.tests.test_import_support import person_id, report_rows, row, run


def test_the_report_masks_id_numbers_and_phones_and_the_upload_is_deleted(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    good = person_id(seq=11)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    job = run(
        world.grid1_user,
        [row(name="王小明", id_number=good, phone="13912345678"), row(name="李小红", id_number=bad, room="102")],
        mode="valid_rows",
    )
    job.refresh_from_db()
    rows = report_rows(job)
    text = "\n".join(str(c) for r in rows for c in r)
    assert good not in text and bad not in text and "13912345678" not in text
    assert good[:4] + "*" * 10 + good[-4:] in text and "139****5678" in text
    assert any(str(r[1]).startswith("错误") for r in rows[1:])
    assert not job.file
    assert [p.name for p in (tmp_path / "imports").rglob("*.xlsx")] == ["台账-结果.xlsx"]
