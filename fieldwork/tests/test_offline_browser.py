"""A grid worker with no signal, in Chromium on a phone: the due list opened once online keeps its
households' visit forms on the phone; a visit recorded offline waits on the phone (the banner says
so, the server has nothing), reaches the server once when the connection returns, and a replay of
the same item through the API still leaves exactly one visit."""

import json
import os

import pytest
from django.test import Client

from conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = "/tmp/fw/shots"


def shot(pg, name):
    os.makedirs(SHOTS, exist_ok=True)
    pg.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def _world():
    from fieldwork.services import dues
    from registry.testing import build_world

    w = build_world()
    dues.forget()
    dues.recompute_all()
    return w


def _photo(tmp_path):
    from PIL import Image

    path = tmp_path / "door.jpg"
    Image.new("RGB", (2400, 1800), (120, 90, 60)).save(path, "JPEG")
    return str(path)


def due_list_kept(phone, user="grid1"):
    """Online: the worker opens the due list; the service worker installs and keeps the visit
    form of every household on it."""
    browser_login(phone, user)
    phone.goto(phone.base_url + "/fieldwork/due/")
    phone.wait_for_function("window.__linliPrecached === true", timeout=60_000)
    phone.wait_for_function("navigator.serviceWorker.controller !== null")


def waiting(pg) -> str:
    return pg.evaluate("document.getElementById('fw-banner').dataset.waiting")


def test_a_visit_recorded_offline_reaches_the_server_exactly_once(phone, tmp_path, settings):
    from fieldwork.models import SyncReceipt, Visit, VisitPhoto

    settings.MEDIA_ROOT = str(tmp_path / "media")

    w = _world()
    hh = w.g1.households[1]
    due_list_kept(phone)
    phone.wait_for_function("document.getElementById('fw-banner').dataset.waiting === '0'")
    shot(phone, "offline-1-due-online")

    phone.context.set_offline(True)
    phone.goto(phone.base_url + f"/fieldwork/visits/new/{hh.pk}/")
    # The page came from the phone and says so.
    phone.wait_for_selector("#fw-offline:not([hidden])")
    assert phone.evaluate("document.getElementById('fw-status').dataset.fresh") == "0"
    key_on_page = phone.input_value("input[name=client_key]")
    assert len(key_on_page) >= 8
    phone.check("input[name=met]")
    phone.fill("#notes", "老人精神不错，需要换灯泡")
    phone.set_input_files("#files", _photo(tmp_path))
    phone.click("button.fw-submit")
    phone.wait_for_selector("#fw-saved:not([hidden])")
    saved = phone.inner_text("#fw-saved")
    assert "已保存在手机上" in saved or "Saved on the phone" in saved
    phone.wait_for_function("document.getElementById('fw-banner').dataset.waiting === '1'")
    banner = phone.inner_text("#fw-banner")
    assert "1" in banner
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "offline-2-visit-saved-on-phone")
    assert Visit.objects.count() == 0

    # The queue page (kept on the phone too) lists it.
    item = phone.evaluate("LinliQueue.waiting().then(rows => rows[0])")
    assert item["kind"] == "visit" and item["key"] == key_on_page
    assert item["payload"]["household"] == str(hh.pk) and item["payload"]["met"] == [str(w.g1.residents[2].pk)]
    phone.goto(phone.base_url + "/fieldwork/queue/")
    phone.wait_for_selector("#fw-waiting li")
    shot(phone, "offline-3-queue-page")

    # Back online: the queue flushes by itself.
    phone.context.set_offline(False)
    phone.wait_for_function("document.getElementById('fw-banner').dataset.waiting === '0'", timeout=20_000)
    phone.wait_for_selector("#fw-waiting-empty:not([hidden])")
    shot(phone, "offline-4-all-sent")
    visit = Visit.objects.get()
    assert visit.client_key == item["key"] and visit.household_id == hh.pk and visit.worker == w.grid1_user
    assert visit.notes == "老人精神不错，需要换灯泡"
    assert list(visit.met.values_list("pk", flat=True)) == [w.g1.residents[2].pk]
    assert VisitPhoto.objects.filter(visit=visit, content_type="image/jpeg").count() == 1

    # The same item replayed through the API: a duplicate, still one visit.
    client = Client(enforce_csrf_checks=True)
    client.force_login(w.grid1_user)
    client.cookies["csrftoken"] = "c" * 32
    res = client.post(
        "/api/fieldwork/sync",
        json.dumps({"items": [{"key": item["key"], "kind": "visit", "payload": item["payload"]}]}),
        content_type="application/json",
        headers={"X-CSRFToken": "c" * 32},
    )
    assert res.json()["results"][0]["status"] == "duplicate"
    assert res.json()["results"][0]["id"] == visit.pk
    assert Visit.objects.count() == 1 and SyncReceipt.objects.count() == 1


def test_a_refused_offline_visit_is_listed_with_its_reason_and_can_be_dismissed(phone):
    from fieldwork.models import Visit

    w = _world()
    browser_login(phone, "grid1")
    phone.goto(phone.base_url + "/fieldwork/queue/")
    phone.wait_for_function("window.LinliQueue !== undefined")
    # A visit queued on the phone for a household of another grid (e.g. a stale due list).
    phone.context.set_offline(True)
    phone.evaluate(
        "hh => LinliQueue.add('visit', {household: String(hh), nobody_home: true, notes: ''}, null, '第三网格的住户')",
        w.g3.households[0].pk,
    )
    phone.wait_for_function("document.getElementById('fw-banner').dataset.waiting === '1'")
    phone.context.set_offline(False)
    phone.wait_for_selector("#fw-refused li .reason", timeout=20_000)
    reason = phone.inner_text("#fw-refused li .reason")
    assert "grid" in reason or "网格" in reason
    assert phone.evaluate("document.getElementById('fw-banner').dataset.refused") == "1"
    shot(phone, "offline-5-refused")
    phone.click("#fw-refused li button")
    phone.wait_for_selector("#fw-refused-empty:not([hidden])")
    assert Visit.objects.count() == 0


def test_a_page_never_opened_online_shows_the_no_signal_page(phone):
    _world()
    browser_login(phone, "grid1")
    phone.goto(phone.base_url + "/fieldwork/queue/")
    phone.wait_for_function("navigator.serviceWorker.controller !== null", timeout=20_000)
    phone.context.set_offline(True)
    phone.goto(phone.base_url + "/fieldwork/visits/")
    phone.wait_for_selector("h1")
    text = phone.inner_text("main")
    assert "No signal" in text or "没有信号" in text or "无信号" in text
    shot(phone, "offline-6-no-signal")


def test_online_the_visit_form_posts_to_the_server_and_follows_its_answer(phone):
    from fieldwork.models import Visit

    w = _world()
    hh = w.g1.households[0]
    browser_login(phone, "grid1")
    phone.goto(phone.base_url + f"/fieldwork/visits/new/{hh.pk}/")
    # Nothing ticked: the server's own page with its message (nothing saved, nothing queued).
    phone.click("button.fw-submit")
    phone.wait_for_function("window.LinliQueue && document.querySelector('.form-errors')")
    assert Visit.objects.count() == 0
    assert phone.evaluate("LinliQueue.pending()") == 0
    phone.check("input[name=nobody_home]")
    phone.click("button.fw-submit")
    phone.wait_for_url(lambda url: "/visits/new/" not in url)
    visit = Visit.objects.get()
    assert visit.nobody_home and visit.household_id == hh.pk and visit.client_key
    phone.goto(phone.base_url + "/fieldwork/queue/")
    phone.wait_for_function("window.LinliQueue !== undefined")
    assert phone.evaluate("LinliQueue.pending()") == 0


def test_a_shared_phone_never_sends_one_workers_queue_as_anothers(phone):
    from fieldwork.models import Visit

    w = _world()
    browser_login(phone, "grid1")
    phone.goto(phone.base_url + "/fieldwork/queue/")
    phone.wait_for_function("window.__linliPrecached === true", timeout=60_000)
    assert phone.evaluate("caches.keys().then(k => k.some(n => n.startsWith('fw-pages-')))")
    me = f"u{w.grid1_user.pk}"
    phone.evaluate(META, ["put", f"csrf:{me}"])  # as kept for the service worker's sending
    # Signing out forgets the worker's kept pages and that token.
    phone.evaluate("document.querySelector('.menu-signout').requestSubmit()")
    phone.wait_for_url("**/accounts/login/**")
    assert not phone.evaluate("caches.keys().then(k => k.some(n => n.startsWith('fw-pages-')))")
    assert phone.evaluate(META, ["get", f"csrf:{me}"]) is None

    browser_login(phone, "grid2")
    phone.goto(phone.base_url + "/fieldwork/queue/")
    phone.wait_for_function("window.LinliQueue !== undefined")
    # An item grid1 left on this phone (recorded offline, never sent).
    phone.evaluate(PUT_ITEM, [f"u{w.grid1_user.pk}", w.g1.households[0].pk])
    phone.evaluate("LinliQueue.flush(true)")
    assert phone.evaluate("LinliQueue.pending()") == 0  # grid2 sees only their own queue
    assert Visit.objects.count() == 0
    phone.wait_for_function("window.__linliPrecached === true", timeout=60_000)

    # Back as grid1: their item goes, as theirs.
    phone.evaluate("document.querySelector('.menu-signout').requestSubmit()")
    phone.wait_for_url("**/accounts/login/**")
    browser_login(phone, "grid1")
    phone.goto(phone.base_url + "/fieldwork/queue/")
    phone.wait_for_function("window.LinliQueue !== undefined")
    phone.evaluate("LinliQueue.flush(true)")
    phone.wait_for_function("document.getElementById('fw-banner').dataset.waiting === '0'", timeout=20_000)
    assert Visit.objects.get().worker == w.grid1_user


META = """([op, id]) => new Promise((resolve, reject) => {
  const req = indexedDB.open('linli-fieldwork', 1);
  req.onsuccess = () => {
    const tx = req.result.transaction('meta', 'readwrite');
    const store = tx.objectStore('meta');
    let out = null;
    if (op === 'put') store.put({id, token: 'kept-token'});
    else store.get(id).onsuccess = (e) => { out = e.target.result || null; };
    tx.oncomplete = () => resolve(out);
    tx.onerror = () => reject(tx.error);
  };
  req.onerror = () => reject(req.error);
})"""


PUT_ITEM = """([user, hh]) => new Promise((resolve, reject) => {
  const req = indexedDB.open('linli-fieldwork', 1);
  req.onsuccess = () => {
    const tx = req.result.transaction('queue', 'readwrite');
    const key = 'left-behind-' + hh;
    tx.objectStore('queue').put({id: user + ':' + key, key, kind: 'visit', payload: {household: String(hh), nobody_home: true},
      user, label: '', created: new Date().toISOString(), seq: 1, attempts: 0, next_at: 0, last_error: ''});
    tx.oncomplete = () => resolve(true);
    tx.onerror = () => reject(tx.error);
  };
  req.onerror = () => reject(req.error);
})"""


def test_with_no_signal_the_hazard_forms_questions_follow_the_chosen_category(phone):
    from workorders.models import Category
    from workorders.services.seed import seed_categories

    _world()
    seed_categories()
    default = Category.objects.get(code="safety.hazard")
    others = [c for c in Category.objects.filter(parent__code="safety", active=True).exclude(pk=default.pk).prefetch_related("attributes")
              if any(a.variable for a in c.attributes.all())]
    assert others, "a safety category with questions of its own"
    other = others[0]
    question = next(a for a in other.attributes.all() if a.variable)
    browser_login(phone, "grid1")
    url = phone.base_url + "/fieldwork/report/hazard/"
    phone.goto(url)
    phone.wait_for_function("navigator.serviceWorker.controller !== null", timeout=20_000)
    phone.goto(url)  # now through the worker, which keeps it
    phone.context.set_offline(True)
    phone.goto(url)
    phone.wait_for_selector("#fw-offline:not([hidden])")
    assert phone.locator(f'#attributes [name="attribute[{question.code}]"]').count() == 0
    phone.select_option("#category", str(other.pk))
    phone.wait_for_selector(f'#attributes [name="attribute[{question.code}]"]', state="attached")
    assert question.description in phone.inner_text("#attributes")
    shot(phone, "offline-7-hazard-category")
    phone.select_option("#category", str(default.pk))
    assert phone.locator(f'#attributes [name="attribute[{question.code}]"]').count() == 0


def test_the_service_worker_sends_the_queue_when_the_signal_returns_with_no_field_page_open(phone):
    """Background Sync: the visit was kept on the phone, the worker left the field pages; when
    the connection returns the browser wakes the service worker, which sends it."""
    from fieldwork.models import Visit

    w = _world()
    hh = w.g1.households[1]
    due_list_kept(phone)
    assert phone.evaluate("'SyncManager' in window")
    phone.context.set_offline(True)
    phone.goto(phone.base_url + f"/fieldwork/visits/new/{hh.pk}/")
    phone.wait_for_selector("#fw-offline:not([hidden])")
    phone.check("input[name=nobody_home]")
    phone.click("button.fw-submit")
    phone.wait_for_function("document.getElementById('fw-banner').dataset.waiting === '1'")
    # The page could not send it (offline); from here on no field page is open, so whatever
    # sends it is the service worker. (Chromium's offline emulation covers pages, not the
    # worker: it may send as soon as the sync is registered.)
    phone.goto("about:blank")
    phone.context.set_offline(False)  # Chromium fires the sync event when the signal returns

    def arrived(seconds):
        for _ in range(seconds * 10):
            if Visit.objects.exists():
                return True
            phone.wait_for_timeout(100)
        return False

    if not arrived(5):
        # Not fired yet (the browser decides when): fire it as the browser would.
        cdp = phone.context.new_cdp_session(phone)
        registrations = []
        cdp.on("ServiceWorker.workerRegistrationUpdated", lambda e: registrations.extend(e["registrations"]))
        cdp.send("ServiceWorker.enable")
        phone.wait_for_timeout(500)
        live = [r for r in registrations if r["scopeURL"].endswith("/fieldwork/") and not r["isDeleted"]]
        assert live, registrations
        cdp.send("ServiceWorker.dispatchSyncEvent",
                 {"origin": phone.base_url, "registrationId": live[-1]["registrationId"], "tag": "fw-queue", "lastChance": False})
        assert arrived(10)
    visit = Visit.objects.get()
    assert visit.nobody_home and visit.household_id == hh.pk and visit.worker == w.grid1_user
    # A field page opened later finds nothing waiting.
    phone.goto(phone.base_url + "/fieldwork/queue/")
    phone.wait_for_function("document.getElementById('fw-banner').dataset.waiting === '0'", timeout=20_000)
    assert Visit.objects.count() == 1
