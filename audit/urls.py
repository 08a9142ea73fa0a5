from django.urls import path

from audit import views

app_name = "audit"
urlpatterns = [
    path("", views.event_list, name="event_list"),
    path("events/<int:seq>/", views.event_detail, name="event_detail"),
    path("records/<str:object_type>/<str:object_id>/", views.record_history, name="record_history"),
    path("export.csv", views.export_csv, name="export_csv"),
    path("verify/", views.verify, name="verify"),
]
