from django.urls import path

from quality.views import deviations, inspections, release, specs

app_name = "quality"
urlpatterns = [
    path("specifications/", specs.spec_list, name="spec_list"),
    path("specifications/new/", specs.spec_create, name="spec_create"),
    path("specifications/<int:pk>/", specs.spec_detail, name="spec_detail"),
    path("specifications/<int:pk>/items/", specs.spec_item_add, name="spec_item_add"),
    path("specifications/<int:pk>/items/<int:item_id>/remove/", specs.spec_item_remove, name="spec_item_remove"),
    path("specifications/<int:pk>/new-version/", specs.spec_new_version, name="spec_new_version"),
    path("specifications/<int:pk>/<str:action>/", specs.spec_action, name="spec_action"),
    path("deviations/", deviations.deviation_list, name="deviation_list"),
    path("deviations/new/", deviations.deviation_create, name="deviation_create"),
    path("deviations/<int:pk>/", deviations.deviation_detail, name="deviation_detail"),
    path("deviations/<int:pk>/capa/", deviations.capa_create, name="capa_create"),
    path("deviations/<int:pk>/<str:action>/", deviations.deviation_action, name="deviation_action"),
    path("capa/", deviations.capa_board, name="capa_board"),
    path("capa/<int:pk>/", deviations.capa_detail, name="capa_detail"),
    path("capa/<int:pk>/<str:action>/", deviations.capa_action, name="capa_action"),
    path("inspections/", inspections.worklist, name="worklist"),
    path("inspections/new/", inspections.inspection_create, name="inspection_create"),
    path("inspections/<int:pk>/", inspections.inspection_detail, name="inspection_detail"),
    path("inspections/<int:pk>/samples/", inspections.sample_take, name="sample_take"),
    path("inspections/<int:pk>/items/<int:item_id>/result/", inspections.result_enter, name="result_enter"),
    path("inspections/<int:pk>/results/<int:result_id>/correct/", inspections.result_correct, name="result_correct"),
    path("inspections/<int:pk>/<str:action>/", inspections.inspection_action, name="inspection_action"),
    path("release/", release.release_list, name="release_list"),
    path("release/<int:pk>/", release.release_detail, name="release_detail"),
    path("release/<int:pk>/<str:action>/", release.release_action, name="release_action"),
    path("nonconforming/", release.disposition_list, name="disposition_list"),
    path("nonconforming/lot/<int:lot_id>/", release.disposition_create, name="disposition_create"),
    path("nonconforming/<int:pk>/", release.disposition_detail, name="disposition_detail"),
    path("nonconforming/<int:pk>/<str:action>/", release.disposition_action, name="disposition_action"),
]
