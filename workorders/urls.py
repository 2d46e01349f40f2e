from django.urls import path

from .views import config, desks, detail, exports, intake, notifications, window

app_name = "workorders"
urlpatterns: list = []

# desks and intake
urlpatterns += [
    path("", desks.index, name="index"),
    path("<int:pk>/", detail.detail, name="detail"),
    path("<int:pk>/act/<slug:action>/", detail.act, name="act"),
    path("<int:pk>/files/<int:att>/", detail.attachment, name="attachment"),
    path("<int:pk>/files/<int:att>/thumb/", detail.attachment, {"kind": "thumb"}, name="thumbnail"),
    path("report/", intake.report, name="report"),
    path("report/attributes/", intake.attribute_form, name="attribute_form"),
    path("report/settle/", intake.settle, name="settle"),
    path("report/hotline/", intake.hotline, name="hotline"),
    path("report/assign/", intake.assign, name="assign"),
    path("mine/", desks.mine, name="mine"),
    path("tasks/", desks.tasks, name="tasks"),
    path("board/", desks.board, name="board"),
    path("board/bulk-dispatch/", desks.bulk_dispatch, name="bulk_dispatch"),
    path("inbox/", desks.inbox, name="inbox"),
    path("overdue/", desks.overdue, name="overdue"),
    path("notifications/", notifications.notifications, name="notifications"),
    path("notifications/<int:pk>/open/", notifications.notification_open, name="notification_open"),
    path("nearby/", intake.nearby, name="nearby"),
    path("export/ledger/", exports.ledger, name="ledger"),
    path("export/<slug:which>.xlsx", exports.export, name="export"),
]

# categories and one-window desk
urlpatterns += [
    path("config/", config.category_list, name="config"),
    path("config/<int:pk>/", config.category_detail, name="config_category"),
    path("config/<int:pk>/add/", config.category_add, name="config_category_add"),
    path("config/<int:category_pk>/attributes/new/", config.attribute_form, name="config_attribute_new"),
    path("config/attributes/<int:pk>/", config.attribute_form, name="config_attribute"),
    path("config/attributes/<int:pk>/move/", config.attribute_move, name="config_attribute_move"),
    path("config/attributes/<int:pk>/delete/", config.attribute_delete, name="config_attribute_delete"),
    path("config/<int:pk>/sla/", config.sla_add, name="config_sla_add"),
    path("config/sla/<int:pk>/delete/", config.sla_delete, name="config_sla_delete"),
    path("config/<int:pk>/routing/", config.routing_add, name="config_routing_add"),
    path("config/routing/<int:pk>/delete/", config.routing_delete, name="config_routing_delete"),
    path("window/", window.desk, name="window"),
    path("window/residents/", window.resident_search, name="window_residents"),
    path("window/items/<str:code>/", window.new_application, name="window_new"),
    path("window/<int:pk>/", window.application, name="window_application"),
    path("window/<int:pk>/accept/", window.accept, name="window_accept"),
    path("window/<int:pk>/notice/", window.notice, name="window_notice"),
    path("window/<int:pk>/notice/print/", window.slip, name="window_slip"),
    path("window/<int:pk>/process/", window.process, name="window_process"),
    path("window/<int:pk>/finish/", window.finish, name="window_finish"),
]
