from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from mes import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("audit/", include("audit.urls")),
    path("orders/", include("orders.urls")),
    path("batches/", include("batches.urls")),
    path("equipment/", include("equipment.urls")),
    path("materials/", include("materials.urls")),
    path("quality/", include("quality.urls")),
    path("administration/", include("administration.urls")),
    path("integrations/", include("integrations.urls")),
    path("api/", include("integrations.api.urls")),
    path("reports/", include("reports.urls")),
    path("validation/", include("validation.urls")),
    path("admin/", admin.site.urls),
]

handler400 = "mes.views.error_400"
handler403 = "mes.views.error_403"
handler404 = "mes.views.error_404"
handler500 = "mes.views.error_500"
