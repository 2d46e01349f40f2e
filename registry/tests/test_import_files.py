"""Upload checks, file formats, header detection and cell formats of the resident import."""

import datetime as dt
import io

import pytest

from linli.errors import DomainError, Forbidden
from registry import exports
from registry.models import ImportJob, Resident
from registry.services.importer import check as importer  # importer.idnumber: the ID number rules of the row checks
from registry.services.importer import job as import_job
from registry.tests.test_import_support import HEADER, person_id, report_rows, row, run, upload, xlsx_bytes


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_template_has_chinese_headers_an_example_row_and_instructions(db):
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_filelike(io.BytesIO(exports.template_xlsx()))
    assert wb.sheet_names == ["居民信息", "填写说明"]
    rows = wb.get_sheet_by_index(0).to_python()
    assert rows[0] == HEADER
    assert rows[1][0] == "张三" and rows[1][1] == "11010519491231002X"
    notes = wb.get_sheet_by_name("填写说明").to_python()
    labels = [r[0] for r in notes[1:len(HEADER) + 1]]
    assert labels == HEADER
    assert "户籍、流动 或 境外" in " ".join(r[2] for r in notes[1:len(HEADER) + 1])
    assert "低保" in notes[HEADER.index("关爱标签") + 1][2]


def test_the_template_example_row_imports(world):
    job = import_job.start_import(world.grid1_user, upload(exports.template_xlsx(), "模板.xlsx"))
    assert job.status == "done", job.message
    assert Resident.objects.filter(name="张三", id_number_masked="1101**********002X").exists()


def test_a_renamed_file_that_is_not_a_spreadsheet_is_refused(world):
    before = ImportJob.objects.count()
    with pytest.raises(DomainError) as e:
        import_job.start_import(world.grid1_user, upload(b"MZ\x90\x00 this is a program" * 20, "台账.xlsx"))
    assert e.value.code == "import_file_type"
    with pytest.raises(DomainError):
        import_job.start_import(world.grid1_user, upload(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj", "台账.csv"))
    # A real workbook with the wrong extension is refused too.
    with pytest.raises(DomainError):
        import_job.start_import(world.grid1_user, upload(xlsx_bytes([]), "台账.txt"))
    assert ImportJob.objects.count() == before


def test_a_file_over_the_size_limit_is_refused(world, settings):
    settings.LINLI_MAX_UPLOAD_BYTES = 1000
    with pytest.raises(DomainError) as e:
        import_job.start_import(world.grid1_user, upload(b"PK\x03\x04" + b"0" * 2000, "big.xlsx"))
    assert e.value.code == "import_file_too_big"
    assert ImportJob.objects.count() == 0


def test_department_handler_cannot_import(world):
    with pytest.raises(Forbidden):
        run(world.dept1, [row(name="李雷", id_number=person_id())])
    assert ImportJob.objects.count() == 0


def test_grid_worker_cannot_import_into_the_sibling_grid(world):
    with pytest.raises(Forbidden):
        run(world.grid1_user, [row(name="李雷", id_number=person_id())], region=world.grid2)
    assert ImportJob.objects.count() == 0


def test_csv_in_utf8_and_gbk_is_read(world):
    a = person_id(seq=11)
    b = person_id(seq=12, gender="F")
    job = run(world.grid1_user, [row(name="李雷", id_number=a)], name="a.csv")
    assert job.status == "done", job.message
    job = run(world.grid1_user, [row(name="韩梅梅", id_number=b, room="102")], name="b.csv", encoding="gbk")
    assert job.status == "done", job.message
    assert set(Resident.objects.filter(name__in=["李雷", "韩梅梅"]).values_list("name", flat=True)) == {"李雷", "韩梅梅"}


def test_header_variants_title_row_spaces_and_full_width_are_understood(world):
    header = ["序号", " 公民身份号码 ", "姓 名", "手机号", "关系", "人口类型", "网格", "小区", "楼号", "单元", "室"]
    n = person_id(seq=21)
    rows = [[1, "３２" + n[2:], "王小明", "１３９１２３４５６７８", "户主", "流动", "第一网格", "幸福小区", "５号楼", "2单元", "５０２"]]
    job = run(world.grid1_user, rows, header=header, title="钮家巷社区 第一网格 居民台账（2024年）")
    assert job.status == "done", job.message
    r = Resident.objects.get(name="王小明")
    assert r.reveal_id_number() == n
    assert r.phone_masked == "139****5678"
    assert r.residence_type == "floating"
    h = r.household.house
    assert (h.building.number, h.unit, h.room) == ("5", 2, "502")


def test_a_sheet_without_the_needed_columns_is_rejected_with_a_message(world):
    job = run(world.grid1_user, [["x", "y"]], header=["名字", "电话"])
    assert job.status == "rejected"
    assert "身份证号" in job.message


def test_empty_trailing_rows_are_ignored(world):
    rows = [row(name="李雷", id_number=person_id(seq=31)), ["", "", ""], [None] * 5, ["  "]]
    job = run(world.grid1_user, rows, name="a.csv")
    assert job.status == "done", job.message
    assert job.total_rows == 1 and job.created_count == 1 and job.error_count == 0


def test_dates_as_excel_serials_date_cells_and_text_are_read(world):
    cases = [(1990, 1, 2, 32875), (1991, 3, 4, "1991/3/4"), (1992, 5, 6, "19920506"), (1993, 7, 8, dt.date(1993, 7, 8)),
             (1994, 9, 10, "1994-09-10")]
    rows = []
    for k, (y, m, d, cell) in enumerate(cases):
        rows.append(row(name="赵" + "一二三四五"[k], id_number=person_id(y, m, d, seq=40 + k), birth_date=cell, room=f"{k + 1}01"))
    job = run(world.grid1_user, rows)
    assert job.status == "done", [r[1] for r in report_rows(job)]
    assert job.created_count == 5


def test_a_wrong_birth_date_or_gender_against_the_id_number_is_refused(world):
    n = person_id(1990, 1, 2, "M", seq=50)
    job = run(world.grid1_user, [row(name="钱一", id_number=n, birth_date="1990-01-03"),
                                 row(name="钱二", id_number=person_id(seq=51), gender="女", room="102")], mode="valid_rows")
    s = [r[1] for r in report_rows(job)[1:]]
    assert s[0].startswith("错误：出生日期") and "1990-01-02" in s[0]
    assert s[1].startswith("错误：性别")
    assert job.created_count == 0 and job.error_count == 2


def test_a_15_digit_id_number_is_upgraded(world):
    job = run(world.grid1_user, [row(name="孙老", id_number="320508500101123")])
    assert job.status == "done", job.message
    r = Resident.objects.get(name="孙老")
    assert r.reveal_id_number() == "32050819500101123" + importer.idnumber.check_char("32050819500101123")
    assert r.birth_date == dt.date(1950, 1, 1) and r.gender == "M"


def test_id_numbers_read_as_numbers_by_excel(world):
    # An old 15-digit number is exact as a number; an 18-digit one has lost its last digits.
    job = run(world.grid1_user, [row(name="周一", id_number=320508500101123),
                                 row(name="周二", id_number=float(person_id(seq=61)[:17] + "1"), room="102")], mode="valid_rows")
    s = [r[1] for r in report_rows(job)[1:]]
    assert s[0] == "新增"
    assert s[1].startswith("错误：身份证号") and ("text" in s[1] or "文本" in s[1])


def test_a_wrong_check_character_and_an_impossible_date_are_refused(world):
    good = person_id(seq=71)
    bad_check = good[:17] + ("0" if good[17] != "0" else "1")
    impossible = "32050819900230" + "123"
    impossible += importer.idnumber.check_char(impossible)
    job = run(world.grid1_user, [row(name="吴一", id_number=bad_check), row(name="吴二", id_number=impossible, room="102"),
                                 row(name="吴三", id_number=person_id(seq=72), birth_date="1980-02-30", room="103")], mode="valid_rows")
    s = [r[1] for r in report_rows(job)[1:]]
    assert "check character" in s[0] or "校验" in s[0]
    assert s[1].startswith("错误：身份证号") and "19900230" in s[1]
    assert s[2].startswith("错误：出生日期")
    assert Resident.objects.filter(name__in=["吴一", "吴二", "吴三"]).count() == 0
