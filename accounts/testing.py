"""Test helpers of accounts: a user with one role at a place."""

from .models import RoleAssignment, User

PASSWORD = "linli-demo"


def make_user(username, role, region, department="", **extra) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, display_name=extra.pop("display_name", username), **extra)
    RoleAssignment.objects.create(user=user, role=role, region=region, region_path=region.path, department=department)
    return user
