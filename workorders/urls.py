from django.urls import path

from . import views

app_name = "workorders"
urlpatterns: list = []

# desks and intake
urlpatterns += [
    path("", views.index, name="index"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/act/<slug:action>/", views.act, name="act"),
    path("<int:pk>/files/<int:att>/", views.attachment, name="attachment"),
    path("<int:pk>/files/<int:att>/thumb/", views.attachment, {"kind": "thumb"}, name="thumbnail"),
    path("report/", views.report, name="report"),
    path("report/attributes/", views.attribute_form, name="attribute_form"),
    path("report/settle/", views.settle, name="settle"),
    path("report/hotline/", views.hotline, name="hotline"),
    path("report/assign/", views.assign, name="assign"),
    path("mine/", views.mine, name="mine"),
    path("tasks/", views.tasks, name="tasks"),
    path("board/", views.board, name="board"),
    path("board/bulk-dispatch/", views.bulk_dispatch, name="bulk_dispatch"),
    path("inbox/", views.inbox, name="inbox"),
    path("overdue/", views.overdue, name="overdue"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/<int:pk>/open/", views.notification_open, name="notification_open"),
    path("nearby/", views.nearby_view, name="nearby"),
    path("export/ledger/", views.ledger, name="ledger"),
    path("export/<slug:which>.xlsx", views.export, name="export"),
]

# categories and one-window desk
from . import config_views, window_views  # noqa: E402

urlpatterns += [
    path("config/", config_views.category_list, name="config"),
    path("config/<int:pk>/", config_views.category_detail, name="config_category"),
    path("config/<int:pk>/add/", config_views.category_add, name="config_category_add"),
    path("config/<int:category_pk>/attributes/new/", config_views.attribute_form, name="config_attribute_new"),
    path("config/attributes/<int:pk>/", config_views.attribute_form, name="config_attribute"),
    path("config/attributes/<int:pk>/move/", config_views.attribute_move, name="config_attribute_move"),
    path("config/attributes/<int:pk>/delete/", config_views.attribute_delete, name="config_attribute_delete"),
    path("config/<int:pk>/sla/", config_views.sla_add, name="config_sla_add"),
    path("config/sla/<int:pk>/delete/", config_views.sla_delete, name="config_sla_delete"),
    path("config/<int:pk>/routing/", config_views.routing_add, name="config_routing_add"),
    path("config/routing/<int:pk>/delete/", config_views.routing_delete, name="config_routing_delete"),
    path("window/", window_views.desk, name="window"),
    path("window/residents/", window_views.resident_search, name="window_residents"),
    path("window/items/<str:code>/", window_views.new_application, name="window_new"),
    path("window/<int:pk>/", window_views.application, name="window_application"),
    path("window/<int:pk>/accept/", window_views.accept, name="window_accept"),
    path("window/<int:pk>/notice/", window_views.notice, name="window_notice"),
    path("window/<int:pk>/notice/print/", window_views.slip, name="window_slip"),
    path("window/<int:pk>/process/", window_views.process, name="window_process"),
    path("window/<int:pk>/finish/", window_views.finish, name="window_finish"),
]
