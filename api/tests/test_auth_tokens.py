import datetime as dt

from django.test import Client
from django.utils import timezone, translation

from accounts.models import ApiToken


def _token(client, username="grid1", password="linli-demo"):
    return client.post("/api/auth/token", {"username": username, "password": password}, content_type="application/json")


def test_it_trades_a_password_for_a_token_and_stores_only_its_hash(world, client):
    res = _token(client)
    assert res.status_code == 201
    body = res.json()
    key = body["token"]
    assert len(key) >= 40
    row = ApiToken.objects.get(user=world.grid1_user)
    assert row.key_hash == ApiToken.hash(key) and key not in row.key_hash
    expires = dt.datetime.fromisoformat(body["expires_at"])
    assert dt.timedelta(days=29) < expires - timezone.now() <= dt.timedelta(days=30)
    me = Client(headers={"Authorization": f"Bearer {key}"}).get("/api/auth/me")
    assert me.status_code == 200 and me.json()["username"] == "grid1"


def test_a_wrong_password_gets_401_with_a_message_and_no_token(world, client):
    res = _token(client, password="wrong")
    assert res.status_code == 401
    body = res.json()
    assert body["code"] == "invalid_credentials"
    assert body["message_en"] == "Wrong username or password."
    with translation.override("zh-hans"):
        assert body["message"] == translation.gettext("Wrong username or password.")
    assert not ApiToken.objects.exists()
    assert _token(client, username="nobody").status_code == 401


def test_an_inactive_user_gets_no_token(world, client):
    world.grid1_user.is_active = False
    world.grid1_user.save()
    assert _token(client).status_code == 401


def test_an_expired_token_is_refused(world, client):
    key = _token(client).json()["token"]
    ApiToken.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    res = Client(headers={"Authorization": f"Bearer {key}"}).get("/api/auth/me")
    assert res.status_code == 401
    assert res.json()["code"] == "unauthenticated"


def test_a_revoked_token_is_refused(world, client):
    key = _token(client).json()["token"]
    other = _token(client).json()["token"]
    api = Client(headers={"Authorization": f"Bearer {key}"})
    assert api.delete("/api/auth/token").status_code == 204
    assert api.get("/api/auth/me").status_code == 401
    assert api.delete("/api/auth/token").status_code == 401
    # only the presented token was revoked
    assert Client(headers={"Authorization": f"Bearer {other}"}).get("/api/auth/me").status_code == 200


def test_no_token_or_a_made_up_token_gets_401(world, client):
    assert client.get("/api/auth/me").status_code == 401
    res = Client(headers={"Authorization": "Bearer made-up"}).post("/api/registry/buildings", {}, content_type="application/json")
    assert res.status_code == 401 and res.json()["code"] == "unauthenticated"


def test_me_lists_roles_with_their_places(world, bearer):
    body = bearer(world.grid1_user).get("/api/auth/me").json()
    assert body["display_name"] == "grid1"
    [role] = body["roles"]
    assert role["role"] == "grid_worker"
    assert role["region_id"] == world.grid1.pk
    assert role["region_path"] == world.grid1.path
    assert role["region_names"] == ["苏州市", "姑苏区", "平江街道", "钮家巷社区", "第一网格"]
    assert "registry.reveal" in body["permissions"] and "regions.manage" not in body["permissions"]
    street = bearer(world.street1).get("/api/auth/me").json()
    assert "regions.manage" in street["permissions"] and "registry.reveal" not in street["permissions"]


def test_bearer_changes_are_audited_under_the_tokens_user(world, bearer):
    from auditlog.models import LogEntry

    b = world.g1.building
    res = bearer(world.grid1_user).patch(f"/api/registry/buildings/{b.pk}", {"address": "平江路1号"}, content_type="application/json")
    assert res.status_code == 200
    entry = LogEntry.objects.get_for_object(b).order_by("-pk").first()
    assert entry.actor_id == world.grid1_user.pk and "address" in entry.changes_dict


# The token, its user and their roles are kept per process (accounts/access.py): every change must
# still count from the next call on.


def test_a_user_switched_off_is_refused_from_the_next_call_on(world, bearer):
    api = bearer(world.grid1_user)
    assert api.get("/api/auth/me").status_code == 200
    world.grid1_user.is_active = False
    world.grid1_user.save()
    assert api.get("/api/auth/me").status_code == 401


def test_a_role_given_or_taken_counts_from_the_next_call_on(world, bearer):
    from accounts.models import Role, RoleAssignment

    api = bearer(world.grid1_user)
    assert [r["role"] for r in api.get("/api/auth/me").json()["roles"]] == ["grid_worker"]
    RoleAssignment.objects.create(user=world.grid1_user, role=Role.GRID_WORKER, region=world.grid2, region_path=world.grid2.path)
    assert {r["region_id"] for r in api.get("/api/auth/me").json()["roles"]} == {world.grid1.pk, world.grid2.pk}
    RoleAssignment.objects.filter(user=world.grid1_user).delete()
    assert api.get("/api/auth/me").json()["roles"] == []
    assert api.get(f"/api/registry/buildings/{world.g1.building.pk}").status_code in (403, 404)


def test_a_token_revoked_by_another_process_is_refused_once_the_shared_version_moves(world, bearer):
    from accounts import access as kept  # the kept tokens

    api = bearer(world.grid1_user)
    assert api.get("/api/auth/me").status_code == 200
    # Another process deletes the row (no signal here) and bumps the version when it commits.
    ApiToken.objects.filter(user=world.grid1_user)._raw_delete(ApiToken.objects.db)
    kept._tokens._bump()
    kept._tokens._state["checked"] = 0  # this process's next version check is due
    assert api.get("/api/auth/me").status_code == 401


def test_a_tokens_last_use_is_written_at_most_every_five_minutes(world, bearer):
    api = bearer(world.grid1_user)
    api.get("/api/auth/me")
    first = ApiToken.objects.get(user=world.grid1_user).last_used_at
    assert first is not None
    api.get("/api/auth/me")
    assert ApiToken.objects.get(user=world.grid1_user).last_used_at == first
