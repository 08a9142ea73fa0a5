from django.urls import path

from quality.views import deviations, specs

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
]
