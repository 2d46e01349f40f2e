"""The permission matrix of accounts/rules.py, written down as a test."""

import pytest

PERMS = ["registry.view", "registry.edit", "registry.import", "registry.export", "registry.reveal", "regions.manage", "accounts.view_access_log"]
MATRIX = {
    "admin": {"registry.view", "registry.edit", "registry.import", "registry.export", "regions.manage", "accounts.view_access_log"},
    "street1": {"registry.view", "registry.edit", "registry.import", "registry.export", "regions.manage", "accounts.view_access_log"},
    "community1": {"registry.view", "registry.edit", "registry.import", "registry.export", "registry.reveal"},
    "grid1": {"registry.view", "registry.edit", "registry.import", "registry.export", "registry.reveal"},
    "dept1": set(),
    "resident1": set(),
}


@pytest.mark.parametrize("username", sorted(MATRIX))
def test_each_role_has_exactly_its_permissions(world, username):
    from accounts.models import User

    user = User.objects.get(username=username)
    assert {p for p in PERMS if user.has_perm(p)} == MATRIX[username]


def test_reveal_can_be_granted_to_one_user(world):
    from django.contrib.auth.models import Permission

    from accounts.models import User

    world.street1.user_permissions.add(Permission.objects.get(codename="reveal_personal_data"))
    street1 = User.objects.get(pk=world.street1.pk)
    assert street1.has_perm("registry.reveal")


def test_scope_is_the_subtree_of_the_assignment(world):
    from accounts.access import in_scope, scope_paths

    assert scope_paths(world.grid1_user) == [world.grid1.path]
    assert in_scope(world.community1, world.grid2.path)
    assert not in_scope(world.grid1_user, world.grid2.path)
    assert scope_paths(world.resident1) == []
