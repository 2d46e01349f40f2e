from django.contrib import admin

from .models import RankingRule


@admin.register(RankingRule)
class RankingRuleAdmin(admin.ModelAdmin):
    list_display = ("indicator", "min_orders", "valid_from")
    list_filter = ("indicator",)
