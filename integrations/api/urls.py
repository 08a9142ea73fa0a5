"""/api/: the versioned REST API, its OpenAPI schema and its documentation.

API views do their own authentication (token or session, see integrations.api.auth), so they are
exempt from the log-in redirect of the pages; a caller with no credentials is still sent to log in.
"""

from django.contrib.auth.decorators import login_not_required
from django.urls import path, re_path
from django.utils.translation import gettext as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from integrations.api import domain, quality, views
from integrations.api.base import AuditedMixin, HasPermissions
from integrations.api.problems import problem_response
from mes.dbrouting import replica_reads

app_name = "api"


class SchemaView(AuditedMixin, SpectacularAPIView):
    permission_classes = [HasPermissions]


class DocsView(SpectacularSwaggerSplitView):
    permission_classes = [HasPermissions]
    url_name = "api:schema"
    template_name = "integrations/api_docs.html"

    def handle_exception(self, exc):
        # Errors of the docs page (refused CSRF, no permission) as the API's JSON, not a bare HTML 403.
        response = super().handle_exception(exc)
        if isinstance(response, Response):
            self.request.accepted_renderer, self.request.accepted_media_type = JSONRenderer(), "application/json"
        return response


@login_not_required
def not_found(request, *args, **kwargs):
    """Any other address under /api/: a problem+json 404 (API clients get no HTML error page)."""
    return problem_response(status=404, code="not_found", detail=_("No such API address."), request=request)


def api(route, view, name, **initkwargs):
    return path(route, login_not_required(view.as_view(**initkwargs)), name=name)


def api_list(route, view, name):
    """A read-only list: its GETs may read from the replica (mes/dbrouting.py)."""
    return path(route, replica_reads(login_not_required(view.as_view())), name=name)


urlpatterns = [
    api("schema/", SchemaView, "schema"),
    api("docs/", DocsView, "docs"),
    api("v1/erp/production-plans/", views.ErpPlanView, "erp-production-plans"),
    api("v1/lims/test-results/", views.LimsResultsView, "lims-test-results"),
    api("v1/qms/capa-decisions/", views.QmsCapaView, "qms-capa-decisions"),
    api("v1/wms/receipts/", views.WmsReceiptView, "wms-receipts"),
    api("v1/wms/stock-status/", views.WmsStockView, "wms-stock-status"),
    api_list("v1/orders/", domain.OrderListView, "order-list"),
    api("v1/orders/<str:number>/", domain.OrderDetailView, "order-detail"),
    api_list("v1/production-plans/", domain.PlanListView, "production-plan-list"),
    api_list("v1/batches/", domain.BatchListView, "batch-list"),
    api("v1/batches/<str:number>/", domain.BatchDetailView, "batch-detail"),
    api("v1/batches/<str:number>/b2mml-performance/", domain.BatchPerformanceView, "batch-performance"),
    api("v1/batches/<str:number>/batchml/", domain.BatchRecordView, "batch-record"),
    api("v1/erp/b2mml/operations-schedule/", views.B2mmlScheduleView, "erp-b2mml-schedule"),
    api_list("v1/equipment/", domain.EquipmentListView, "equipment-list"),
    api("v1/equipment/<str:code>/", domain.EquipmentDetailView, "equipment-detail"),
    api_list("v1/lots/", domain.LotListView, "lot-list"),
    api("v1/lots/<str:code>/", domain.LotDetailView, "lot-detail"),
    api_list("v1/movements/", domain.MovementListView, "movement-list"),
    api_list("v1/inspections/", quality.InspectionListView, "inspection-list"),
    api("v1/inspections/<str:number>/", quality.InspectionDetailView, "inspection-detail"),
    api("v1/inspections/<str:number>/samples/", quality.SampleTakeView, "inspection-sample"),
    api_list("v1/deviations/", quality.DeviationListView, "deviation-list"),
    api("v1/deviations/<str:number>/", quality.DeviationDetailView, "deviation-detail"),
    api_list("v1/messages/outbox/", views.OutboxListView, "outbox-list"),
    api("v1/messages/outbox/<int:pk>/", views.OutboxDetailView, "outbox-detail"),
    api_list("v1/messages/inbox/", views.InboxListView, "inbox-list"),
    api("v1/messages/inbox/<int:pk>/", views.InboxDetailView, "inbox-detail"),
    re_path(r"^", not_found),  # last: unnamed, so it needs no access rule
]
