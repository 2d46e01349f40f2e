from django.urls import path

from . import views

app_name = "mediation"
urlpatterns = [
    path("", views.case_list, name="case_list"),
    path("new/", views.case_new, name="case_new"),
    path("kpis/", views.kpi_page, name="kpis"),
    path("orders/<int:order_pk>/open/", views.case_open, name="case_open"),
    path("<int:pk>/", views.case_detail, name="case_detail"),
    path("<int:pk>/parties/", views.case_party, name="case_party"),
    path("<int:pk>/mediators/", views.case_mediators, name="case_mediators"),
    path("<int:pk>/sessions/", views.case_session, name="case_session"),
    path("<int:pk>/agreement/", views.case_agreement, name="case_agreement"),
    path("<int:pk>/agreement/print/", views.agreement_print, name="agreement_print"),
    path("<int:pk>/court/", views.court_apply, name="court_apply"),
    path("<int:pk>/court/result/", views.court_result, name="court_result"),
    path("<int:pk>/close/", views.case_close, name="case_close"),
    path("follow-ups/<int:pk>/", views.follow_up_result, name="follow_up_result"),
]
