"""Organisation pages: list with search, detail with reveal, create, edit, archive."""

from django.urls import reverse

from accounts.models import PersonalDataAccess
from registry.models import Organization


def url(name, *args):
    return reverse(f"registry:{name}", args=args)




def _credit_code():
    from registry.services import valid_credit_code

    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    base = "91320508MA1MXXXXX".replace("X", "1")
    for c in alphabet:
        if valid_credit_code(base + c):
            return base + c
    raise AssertionError


def test_list_is_scoped_and_searchable(world, login):
    c = login(world.grid1_user)
    body = c.get(url("organization_list")).content.decode()
    assert "测试便利店1" in body and "测试便利店2" not in body
    body = login(world.community1).get(url("organization_list"), {"q": "便利店2"}).content.decode()
    assert "测试便利店2" in body and "测试便利店1" not in body
    resp = c.get(url("organization_list"), {"q": "便利"}, HTTP_HX_REQUEST="true")
    assert resp.content.decode().lstrip().startswith('<div id="org-results"')


def test_create_edit_reveal_and_archive(world, login):
    c = login(world.grid1_user)
    code = _credit_code()
    resp = c.post(url("organization_create"), {"grid": world.grid1.pk, "name": "平江养老服务中心", "kind": "social",
                                               "credit_code": code, "contact_name": "王主任", "contact_phone": "13611112222",
                                               "employees": "12"})
    o = Organization.objects.get(name="平江养老服务中心")
    assert resp.status_code == 302 and o.region_id == world.grid1.pk and o.credit_code == code
    body = c.get(url("organization_detail", o.pk)).content.decode()
    assert "136****2222" in body and "13611112222" not in body
    revealed = c.post(url("organization_reveal", o.pk)).content.decode()
    assert "13611112222" in revealed
    assert PersonalDataAccess.objects.filter(organization=o, field="contact_phone", user=world.grid1_user).exists()
    resp = c.post(url("organization_edit", o.pk), {"name": "平江颐养中心", "kind": "social", "credit_code": code,
                                                   "contact_name": "王主任", "employees": "15"})
    o.refresh_from_db()
    assert resp.status_code == 302 and o.name == "平江颐养中心" and o.employees == 15
    assert o.reveal_contact_phone() == "13611112222"  # empty field keeps the number
    resp = c.post(url("organization_archive", o.pk))  # no confirmation
    o.refresh_from_db()
    assert o.archived_at is None
    c.post(url("organization_archive", o.pk), {"confirm": "yes"})
    o.refresh_from_db()
    assert o.archived_at is not None
    c.get(url("organization_list"))  # the success message is shown once
    assert url("organization_detail", o.pk) not in c.get(url("organization_list")).content.decode()
    assert c.get(url("organization_detail", o.pk)).status_code == 404


def test_bad_input_is_refused_with_messages(world, login):
    c = login(world.grid1_user)
    before = Organization.objects.count()
    resp = c.post(url("organization_create"), {"grid": world.grid1.pk, "name": "某公司", "kind": "business", "credit_code": "12345"})
    assert "统一社会信用代码不正确" in resp.content.decode()
    resp = c.post(url("organization_create"), {"grid": world.grid1.pk, "name": "<b>坏</b>", "kind": "business"})
    body = resp.content.decode()
    assert "不能含 &lt; 或 &gt;" in body and "<b>坏</b>" not in body
    resp = c.post(url("organization_create"), {"grid": world.grid1.pk, "name": "某公司", "kind": "business", "contact_phone": "12345"})
    assert "不是有效的手机号" in resp.content.decode()
    assert Organization.objects.count() == before


def test_sibling_grid_organisations_are_not_found(world, login):
    c = login(world.grid1_user)
    o = world.g2.org
    assert c.get(url("organization_detail", o.pk)).status_code == 404
    assert c.get(url("organization_edit", o.pk)).status_code == 404
    assert c.post(url("organization_archive", o.pk), {"confirm": "yes"}).status_code == 404
    assert c.post(url("organization_reveal", o.pk)).status_code == 404
    o.refresh_from_db()
    assert o.archived_at is None


def test_permissions(world, login):
    assert login(world.dept1).get(url("organization_list")).status_code == 403
    c = login(world.street1)
    assert c.get(url("organization_detail", world.g1.org.pk)).status_code == 200
    assert c.post(url("organization_reveal", world.g1.org.pk)).status_code == 403
