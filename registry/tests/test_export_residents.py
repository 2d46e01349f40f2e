"""Resident export: scope, masking, formula neutralising, flat memory."""

import tracemalloc

import pytest
from python_calamine import CalamineWorkbook

from linli.errors import Forbidden
from registry import exports as exporter
from registry import services
from registry.models import Building


def sheet(path, name="居民"):
    return CalamineWorkbook.from_path(path).get_sheet_by_name(name).to_python()


def test_grid_worker_export_has_only_their_grid(world, tmp_path):
    path = exporter.export_residents_xlsx(world.grid1_user, out=tmp_path / "g1.xlsx")
    rows = sheet(path)
    assert rows[0] == exporter.RESIDENT_HEADERS
    names = {r[0] for r in rows[1:]}
    assert names == {r.name for r in world.g1.residents}
    assert all(r[9] == "第一网格" for r in rows[1:])
    orgs = sheet(path, "单位")
    assert [r[0] for r in orgs[1:]] == ["测试便利店1"]


def test_community_worker_export_covers_both_grids_and_filters_work(world, tmp_path):
    rows = sheet(exporter.export_residents_xlsx(world.community1, out=tmp_path / "c.xlsx"))
    assert len(rows) - 1 == 6
    rows = sheet(exporter.export_residents_xlsx(world.community1, q="zs", out=tmp_path / "c2.xlsx"))
    assert [r[0] for r in rows[1:]] == ["张三"]
    rows = sheet(exporter.export_residents_xlsx(world.community1, tag="elderly", out=tmp_path / "c3.xlsx"))
    assert {r[0] for r in rows[1:]} == {"张三", "赵敏", "李四", "钱芳"}
    rows = sheet(exporter.export_residents_xlsx(world.community1, region_path=world.grid2.path, out=tmp_path / "c4.xlsx"))
    assert {r[0] for r in rows[1:]} == {r.name for r in world.g2.residents}


def test_values_are_masked_and_readable(world, tmp_path):
    rows = sheet(exporter.export_residents_xlsx(world.grid1_user, out=tmp_path / "m.xlsx"))
    head = next(r for r in rows if r[0] == "张三")
    full_id = world.g1.residents[0].reveal_id_number()
    assert head[4] == world.g1.residents[0].id_number_masked and "*" in head[4] and head[4] != full_id
    assert head[5] == "138****0001"
    assert head[1] == "男" and head[2] == "1950-03-01" and head[7] == "户籍" and head[8] == "群众"
    assert head[10] == "平江街道钮家巷社区测试小区11号楼1单元101室"
    assert head[11] == "户主" and "老年人" in head[12] and head[13] == "在住"
    flat = repr(rows)
    for r in world.g1.residents:
        assert r.reveal_id_number() not in flat
    assert "13800000001" not in flat


def test_department_handler_cannot_export(world, tmp_path):
    with pytest.raises(Forbidden):
        exporter.export_residents_xlsx(world.dept1, out=tmp_path / "x.xlsx")


def test_the_neutraliser_prefixes_formula_starts():
    for bad in ("=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"):
        assert exporter.safe_text(bad) == "'" + bad
    assert exporter.safe_text("张三") == "张三"
    assert exporter.safe_text(None) == ""
    assert exporter.safe_text("a=b") == "a=b"


def test_estate_and_organisation_text_beginning_with_formula_characters_reach_the_sheet_neutralised(world, tmp_path):
    Building.objects.filter(pk=world.g1.building.pk).update(estate="=HYPERLINK(\"http://evil\",\"点我\")")
    services.update_organization(world.grid1_user, world.g1.org, {"address": "@SUM(1+1)*cmd", "contact_name": "-王"})
    path = exporter.export_residents_xlsx(world.grid1_user, out=tmp_path / "f.xlsx")
    rows = sheet(path)
    assert all(not r[10].startswith("=") for r in rows[1:])
    orgs = sheet(path, "单位")
    assert orgs[1][4] == "'@SUM(1+1)*cmd" and orgs[1][5] == "'-王"
    # No cell in the file is a formula.
    import zipfile

    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in z.read(name)


def test_a_10k_row_export_keeps_memory_flat(world, tmp_path):
    from django.db import connection

    from registry.models import Resident

    base = Resident.objects.get(pk=world.g1.residents[0].pk)
    fields = [f for f in Resident._meta.concrete_fields if f.name != "id"]
    clones = []
    for k in range(10_000):
        r = Resident(**{f.attname: getattr(base, f.attname) for f in fields})
        r.id_number_bidx = f"bench{k}"
        clones.append(r)
    Resident.objects.bulk_create(clones, batch_size=2000)
    tracemalloc.start()
    path = exporter.export_residents_xlsx(world.grid1_user, out=tmp_path / "big.xlsx")
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rows = sheet(path)
    assert len(rows) - 1 == 10_003
    print(f"10k-row export: tracemalloc peak {peak / 1e6:.1f} MB ({connection.vendor})")
    assert peak < 50e6
