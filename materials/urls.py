from django.urls import path

from materials import views

app_name = "materials"
urlpatterns = [
    path("master/", views.material_list, name="material_list"),
    path("master/new/", views.material_create_view, name="material_create"),
    path("master/<int:pk>/edit/", views.material_edit, name="material_edit"),
]
