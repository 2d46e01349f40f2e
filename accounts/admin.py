from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import PersonalDataAccess, RoleAssignment, User


class RoleInline(admin.TabularInline):
    model = RoleAssignment
    fields = ("role", "region", "department")
    raw_id_fields = ("region",)
    extra = 0


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = BaseUserAdmin.fieldsets + (("Linli", {"fields": ("display_name", "resident")}),)
    raw_id_fields = ("resident",)
    inlines = [RoleInline]
    list_display = ("username", "display_name", "is_active", "last_login")

    def save_formset(self, request, form, formset, change):
        # Keep the copied scope path in step with the chosen region.
        for obj in formset.save(commit=False):
            obj.region_path = obj.region.path
            obj.save()
        for obj in formset.deleted_objects:
            obj.delete()


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(admin.ModelAdmin):
    list_display = ("at", "user", "field", "resident", "organization", "ip", "reason")
    list_filter = ("field",)
    raw_id_fields = ("user", "resident", "organization")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
