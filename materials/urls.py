from django.urls import path

from materials import views, views_dispense, views_issue, views_master, views_trace

app_name = "materials"
urlpatterns = [
    path("master/", views_master.material_list, name="material_list"),
    path("master/new/", views_master.material_create_view, name="material_create"),
    path("master/<int:pk>/edit/", views_master.material_edit, name="material_edit"),
    path("", views.lot_list, name="lot_list"),
    path("receive/", views.lot_receive, name="lot_receive"),
    path("lots/<str:code>/", views.lot_detail, name="lot_detail"),
    path("lots/<str:code>/trace/", views_trace.lot_trace, name="lot_trace"),
    path("lots/<str:code>/trace.csv", views_trace.trace_csv, name="trace_csv"),
    path("lots/<str:code>/recall.pdf", views_trace.trace_pdf, name="trace_pdf"),
    path("locations/", views.location_list, name="location_list"),
    path("locations/<str:code>/", views.location_detail, name="location_detail"),
    path("issue/", views_issue.issue_batches, name="issue_batches"),
    path("issue/<str:number>/", views_issue.issue_screen, name="issue_screen"),
    path("dispense/<str:number>/", views_dispense.dispense_screen, name="dispense_screen"),
    path("dispense/<str:number>/weight/", views_dispense.dispense_weight, name="dispense_weight"),
    path("batches/<str:number>/balance/", views_trace.batch_balance, name="batch_balance"),
]
