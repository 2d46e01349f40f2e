"""Field-work pages, at /fieldwork/."""

from django.urls import path

from .views import attend, compliance, evaluations, notice, offline, patrols, visit_rules, visits

app_name = "fieldwork"

urlpatterns = [
    path("due/", visits.due, name="due"),
    path("visits/", visits.visit_list, name="visit_list"),
    path("visits/new/<int:household_id>/", visits.visit_new, name="visit_new"),
    path("visits/<int:pk>/", visits.visit_detail, name="visit_detail"),
    path("households/<int:household_id>/visits/", visits.household_visits, name="household_visits"),
    path("attend/", attend.attend_list, name="attend_list"),
    path("attend/<int:order_id>/arrive/", attend.attend_arrive, name="attend_arrive"),
    path("report/<slug:form>/", attend.quick_report, name="quick_report"),
    path("rules/", visit_rules.rules, name="rules"),
    path("rules/visit/new/", visit_rules.rule_new, name="rule_new"),
    path("rules/visit/<int:pk>/", visit_rules.rule_edit, name="rule_edit"),
    path("rules/patrol/new/", visit_rules.patrol_rule_edit, name="patrol_rule_new"),
    path("rules/patrol/<int:pk>/", visit_rules.patrol_rule_edit, name="patrol_rule_edit"),
    path("patrols/", patrols.home, name="patrols"),
    path("patrols/start/", patrols.start, name="patrol_start"),
    path("patrols/daily/", patrols.daily, name="patrol_daily"),
    path("patrols/key/<str:key>/", patrols.by_key, name="patrol_by_key"),
    path("patrols/<int:pk>/", patrols.detail, name="patrol_detail"),
    path("patrols/<int:pk>/end/", patrols.end, name="patrol_end"),
    path("sw.js", offline.service_worker, name="service_worker"),
    path("manifest.webmanifest", offline.manifest, name="manifest"),
    path("offline/bundle.json", offline.offline_bundle, name="offline_bundle"),
    path("offline/", offline.offline_page, name="offline"),
    path("queue/", offline.queue, name="queue"),
    path("compliance/", compliance.dashboard, name="compliance"),
    path("compliance/export.xlsx", compliance.export, name="compliance_export"),
    path("evaluate/", evaluations.evaluate, name="evaluate"),
    path("evaluations/", evaluations.results, name="evaluation_results"),
    path("evaluations/export.xlsx", evaluations.results_export, name="evaluation_export"),
    path("evaluations/rounds/", evaluations.rounds, name="evaluation_rounds"),
    path("notice/", notice.notice_list, name="notice_list"),
    path("notice/<int:grid_id>/edit/", notice.notice_edit, name="notice_edit"),
    path("g/<slug:slug>/", notice.notice, name="notice"),
    path("g/<slug:slug>/call", notice.notice_call, name="notice_call"),
    path("g/<slug:slug>/qr.svg", notice.notice_qr, name="notice_qr"),
    path("g/<slug:slug>/print/", notice.notice_print, name="notice_print"),
]
