from django.contrib import admin

from .models import CareTag


@admin.register(CareTag)
class CareTagAdmin(admin.ModelAdmin):
    """Care groups and key-person flags are data: administrators add, rename and retire them."""

    list_display = ("name", "code", "category", "min_age", "max_age", "active", "sort")
    list_filter = ("category", "active")
    search_fields = ("name", "code")
