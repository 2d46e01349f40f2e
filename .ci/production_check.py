"""What .ci/production checks against the running deployment, as an outside client would (plain
HTTP, no Django): the pages and their hashed static files, a grid worker signing in, an order
reported from the API with a photo, a spreadsheet import run by the job consumer through the
Redis queue, and a token revoked in one web process refused at once by the other.

Usage: python .ci/production_check.py http://127.0.0.1:8011 (the demo city's accounts).
"""

import datetime as dt
import http.cookiejar
import io
import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

BASE = sys.argv[1].rstrip("/")
PASSWORD = "linli-demo"


def request(method, path, *, body=None, headers=None, opener=None, content_type=None):
    data = None
    headers = dict(headers or {})
    if body is not None:
        if isinstance(body, (dict, list)) and content_type is None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        else:
            data = body
            headers["Content-Type"] = content_type
    req = urllib.request.Request(BASE + path, data=data, method=method, headers=headers)
    try:
        with (opener or urllib.request.build_opener()).open(req, timeout=30) as r:
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers)


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        sys.exit(1)


def multipart(fields: dict, files: dict) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    out = io.BytesIO()
    for name, value in fields.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, content, ctype) in files.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\nContent-Type: {ctype}\r\n\r\n'.encode())
        out.write(content + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def together(call, n: int = 40, clients: int = 8) -> list:
    """`call` made n times by several clients at once: every web worker (each serves one
    request at a time) gets some of them."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(clients) as pool:
        return list(pool.map(lambda _i: call(), range(n)))


def token(username) -> str:
    status, body, _h = request("POST", "/api/auth/token", body={"username": username, "password": PASSWORD})
    check(status == 201, f"{username} gets an API token")
    return json.loads(body)["token"]


def id_number(area: str, birth: dt.date, seq: int) -> str:
    body = f"{area}{birth:%Y%m%d}{seq:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]


def main():
    # 1. Pages and their static files (collectstatic's hashed names, served by whitenoise).
    status, body, _h = request("GET", "/accounts/login/")
    check(status == 200 and "登录".encode() in body, "the sign-in page answers in Chinese")
    css = re.search(rb'href="(/static/web/linli\.[0-9a-f]{12}\.css)"', body)
    check(css is not None, "the page links the hashed stylesheet from collectstatic's manifest")
    status, _b, headers = request("GET", css.group(1).decode())
    check(status == 200 and "max-age" in headers.get("Cache-Control", ""), "the stylesheet is served, cached for long")
    status, _b, _h = request("GET", "/static/vendor/leaflet/leaflet.js")
    check(status == 200, "Leaflet is served (its source map made collectstatic pass)")

    # 2. A grid worker signs in with the form (session and CSRF cookies).
    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    request("GET", "/accounts/login/", opener=browser)
    csrf = next(c.value for c in jar if c.name == "csrftoken")
    form = urllib.parse.urlencode({"username": "grid1", "password": PASSWORD, "csrfmiddlewaretoken": csrf}).encode()
    status, body, _h = request("POST", "/accounts/login/", body=form, content_type="application/x-www-form-urlencoded",
                               headers={"Referer": BASE + "/accounts/login/"}, opener=browser)
    check(status == 200 and "网格".encode() in body, "grid1 signs in and sees their grid's home page")

    # 3. An order reported from the API with a photo.
    key = token("grid1")
    auth = {"Authorization": f"Bearer {key}"}
    status, body, _h = request("GET", "/api/auth/me", headers=auth)
    me = json.loads(body)
    grid = next(r for r in me["roles"] if r["role"] == "grid_worker")
    png = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000" "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
    body, ctype = multipart({"category": "env.litter", "region_id": grid["region_id"], "title": "楼道堆放垃圾", "description": "生产环境检查",
                             "attribute[amount]": "small"},
                            {"files": ("photo.png", png, "image/png")})
    status, answer, _h = request("POST", "/api/workorders/orders", body=body, content_type=ctype, headers=auth)
    check(status == 201, f"an order with a photo is reported through the API ({status} {answer[:200]!r})")
    order = json.loads(request("GET", f"/api/workorders/orders/{json.loads(answer)['id']}", headers=auth)[1])
    check(len(order.get("attachments", [])) == 1, "the order keeps its photo")

    # 4. A spreadsheet import, run by the huey consumer from the Redis queue.
    status, template, _h = request("GET", "/registry/import/template.xlsx", opener=browser)
    check(status == 200 and template[:2] == b"PK", "the import template downloads")
    import xlsxwriter  # the venv's, to write the sheet a community worker would fill in
    from python_calamine import CalamineWorkbook

    headers_row = CalamineWorkbook.from_filelike(io.BytesIO(template)).get_sheet_by_index(0).to_python()[0]
    values = {"姓名": "核查员", "身份证号": id_number("320508", dt.date(1980, 5, 6), 123), "网格": grid["region_code"],
              "小区": "生产检查小区", "楼栋": "1", "单元": "1", "房号": "101", "与户主关系": "户主"}
    sheet = io.BytesIO()
    wb = xlsxwriter.Workbook(sheet, {"in_memory": True})
    ws = wb.add_worksheet()
    for col, label in enumerate(headers_row):
        ws.write(0, col, label)
        ws.write_string(1, col, values.get(str(label).strip(), ""))
    wb.close()
    body, ctype = multipart({"mode": "atomic"}, {"file": ("检查.xlsx", sheet.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")})
    status, answer, _h = request("POST", "/api/registry/imports", body=body, content_type=ctype, headers=auth)
    check(status == 202, f"the import is queued ({status} {answer[:200]!r})")
    job = json.loads(answer)
    deadline = time.monotonic() + 60
    while job.get("status") in ("pending", "running") and time.monotonic() < deadline:
        time.sleep(0.5)
        job = json.loads(request("GET", f"/api/registry/imports/{job['id']}", headers=auth)[1])
    check(job.get("status") == "done" and job.get("created") == 1, f"the job consumer ran the import from the queue ({job.get('status')})")

    # 5. A token revoked in one web process is refused by every process within about a second
    # (the per-process snapshots, invalidated through Redis). Both workers have it kept first.
    second = token("grid2")
    other = {"Authorization": f"Bearer {second}"}
    statuses = set(together(lambda: request("GET", "/api/auth/me", headers=other)[0]))
    check(statuses == {200}, "the second token is known to every web process")
    status, _b, _h = request("DELETE", "/api/auth/token", headers=other)
    check(status == 204, "the token is revoked (in one of the processes)")
    time.sleep(1.5)
    statuses = together(lambda: request("GET", "/api/auth/me", headers=other)[0])
    check(set(statuses) == {401}, f"every process refuses the revoked token ({statuses.count(200)} of 40 still accepted)")
    print("production check passed")


if __name__ == "__main__":
    main()
