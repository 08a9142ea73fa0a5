from django.urls import path

from equipment import views, views_tags

app_name = "equipment"
urlpatterns = [
    path("", views.board, name="board"),
    path("board/tiles/", views.board_tiles, name="board_tiles"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/end-use/", views.end_use, name="end_use"),
    path("<int:pk>/cleaning/start/", views.cleaning_start, name="cleaning_start"),
    path("<int:pk>/cleaning/finish/", views.cleaning_finish, name="cleaning_finish"),
    path("<int:pk>/fault/", views.fault_new, name="fault_new"),
    path("<int:pk>/daily-check/", views.daily_check, name="daily_check"),
    path("<int:pk>/calibration/", views.calibration_new, name="calibration_new"),
    path("<int:pk>/out-of-service/", views.service_state, {"action": "out"}, name="out_of_service"),
    path("<int:pk>/return-to-service/", views.service_state, {"action": "return"}, name="return_to_service"),
    path("<int:pk>/requalify/", views.requalify, name="requalify"),
    path("maintenance/", views.workorders, name="workorders"),
    path("maintenance/plans/", views.pm_plans, name="pm_plans"),
    path("maintenance/work-orders/<int:pk>/", views.workorder_detail, name="workorder_detail"),
    path("maintenance/faults/<int:pk>/work-order/", views.workorder_create, name="workorder_create"),
    path("maintenance/faults/<int:pk>/dismiss/", views.fault_dismiss, name="fault_dismiss"),
    path("calibration-due/", views.calibration_due, name="calibration_due"),
    path("cleaning-due/", views.cleaning_due, name="cleaning_due"),
    path("oee/", views.oee, name="oee"),
    path("<int:pk>/tags/browse/", views_tags.tag_browser, name="tag_browser"),
    path("tags/import/", views_tags.tag_import, name="tag_import"),
    path("import/", views_tags.equipment_import_view, name="equipment_import"),
]
