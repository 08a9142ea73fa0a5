from django.urls import path

from batches import views

app_name = "batches"
urlpatterns = [
    path("", views.batch_list, name="list"),
    path("rework/<int:disposition_id>/start/", views.rework_start, name="rework_start"),
    path("<str:number>/", views.batch_detail, name="detail"),
    path("<str:number>/step/<int:step>/", views.step_screen, name="step"),
    path("<str:number>/review/", views.review, name="review"),
    path("<str:number>/record/", views.record, name="record"),
    path("<str:number>/record.pdf", views.record_pdf, name="pdf"),
]
