from django.contrib import admin

from .models import Region


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    """Read-only view of the tree; changes go through the tree browser so that paths and
    codes stay consistent."""

    list_display = ("name", "code", "level", "valid_from", "valid_to")
    list_filter = ("level",)
    search_fields = ("name", "code")
    readonly_fields = [f.name for f in Region._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
