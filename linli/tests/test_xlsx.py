import io

from python_calamine import CalamineWorkbook

from linli.xlsx import StreamingWorkbook


def test_streamed_workbook_reads_back_in_a_spreadsheet_reader(tmp_path):
    path = tmp_path / "out.xlsx"
    wb = StreamingWorkbook(str(path))
    ws = wb.add_sheet("居民", ["姓名", "年龄", "备注"], [10, 5, 30])
    ws.write_row(["张三", 70, "a < b & \"c\" \x01"])
    ws.write_row(["'=1+1", None, ""])
    ws2 = wb.add_sheet("单位", ["名称"], [20])
    ws2.write_row(["便利店"])
    wb.close()
    book = CalamineWorkbook.from_filelike(io.BytesIO(path.read_bytes()))
    assert book.sheet_names == ["居民", "单位"]
    rows = book.get_sheet_by_name("居民").to_python()
    assert rows[0] == ["姓名", "年龄", "备注"]
    assert rows[1] == ["张三", 70.0, 'a < b & "c" ']
    assert rows[2][0] == "'=1+1"
    assert book.get_sheet_by_name("单位").to_python() == [["名称"], ["便利店"]]


def test_streamed_workbook_has_no_formulas(tmp_path):
    import zipfile

    path = tmp_path / "out.xlsx"
    wb = StreamingWorkbook(str(path))
    wb.add_sheet("s", ["a"], [5]).write_row(["=HYPERLINK(\"http://x\")"])
    wb.close()
    sheet = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and 't="inlineStr"' in sheet


def test_rows_longer_than_the_header_keep_every_cell_and_column_styles_apply(tmp_path):
    import zipfile

    from linli.xlsx import RED

    path = tmp_path / "out.xlsx"
    wb = StreamingWorkbook(str(path))
    ws = wb.add_sheet("s", ["a"], [5])
    ws.write_row(["x", "y", "z"], styles={1: RED})
    wb.close()
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    assert rows[1] == ["x", "y", "z"]
    sheet = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode()
    assert f'<c r="B2" s="{RED}"' in sheet and '<c r="A2" t=' in sheet
