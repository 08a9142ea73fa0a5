from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("production/", views.production, name="production"),
    path("view/<str:kind>/", views.report, name="report"),
    path("generated/", views.report_list, name="report_list"),
    path("generated/<int:pk>/", views.report_detail, name="report_detail"),
    path("generated/<int:pk>/pdf/", views.report_pdf, name="report_pdf"),
    path("subscriptions/", views.subscriptions, name="subscriptions"),
]
