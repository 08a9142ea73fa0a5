from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

import audit.urls
from mes import views
from mes.dbrouting import replica_reads

# The audit trail's read-only pages may read from the replica (mes/dbrouting.py). Audit sits below mes
# and does not import it, so they are marked here, where mes includes them.
for _pattern in audit.urls.urlpatterns:
    if _pattern.name in {"event_list", "event_detail", "record_history", "export_csv", "verify"}:
        replica_reads(_pattern.callback)

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("audit/", include(audit.urls)),
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
