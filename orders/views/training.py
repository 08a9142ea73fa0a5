"""Training records pages: who is trained on what, until when; record new training."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from orders.forms import TrainingForm
from orders.models import TrainingRecord
from orders.services import training_record_create
from orders.views.common import USER_ERRORS, form_errors, query_without_page


@permission_required("orders.view_trainingrecord", raise_exception=True)
def training_list(request):
    qs = TrainingRecord.objects.select_related("trainee", "recipe__product", "recorded_by")
    who = (request.GET.get("who") or "").strip()
    if who:
        qs = qs.filter(trainee__username__icontains=who)
    page = Paginator(qs.order_by("trainee__username", "-valid_until", "-pk"), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "orders/training_list.html",
        {
            "page": page,
            "who": who,
            "today": timezone.localdate(),
            "query": query_without_page(request),
            "can_add": request.user.has_perm("orders.add_trainingrecord"),
        },
    )


@permission_required("orders.add_trainingrecord", raise_exception=True)
def training_create(request):
    form = TrainingForm(request.POST or None, initial={"trained_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            record = training_record_create(user=request.user, **form.cleaned_data)
        except USER_ERRORS as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("Training recorded: %(r)s.") % {"r": record})
            return redirect("orders:training_list")
    return render(request, "orders/training_form.html", {"form": form})
