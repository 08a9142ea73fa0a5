"""Production lines (work centres) master data pages; the rules live in mes.services."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mes.models import Line
from mes.services import line_create, line_update
from orders.views.common import USER_ERRORS, form_errors


class LineForm(forms.ModelForm):
    reason = forms.CharField(
        label=gettext_lazy("Reason for the change"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    class Meta:
        model = Line
        fields = ["area", "code", "name", "name_zh", "active"]

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["code"].disabled = True
        else:
            del self.fields["reason"]

    def validate_unique(self):
        pass

    def _post_clean(self):
        pass


@permission_required("mes.view_line", raise_exception=True)
def line_list(request):
    lines = Line.objects.select_related("area__site").order_by("area__code", "code")
    return render(
        request,
        "orders/line_list.html",
        {
            "lines": lines,
            "can_add": request.user.has_perm("mes.add_line"),
            "can_change": request.user.has_perm("mes.change_line"),
        },
    )


@permission_required("mes.add_line", raise_exception=True)
def line_create_view(request):
    form = LineForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            line = line_create(user=request.user, **form.cleaned_data)
        except USER_ERRORS as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("Line %(code)s added.") % {"code": line.code})
            return redirect("orders:line_list")
    return render(request, "orders/line_form.html", {"form": form, "line": None})


@permission_required("mes.change_line", raise_exception=True)
def line_edit(request, pk: int):
    line = get_object_or_404(Line, pk=pk)
    form = LineForm(request.POST or None, instance=line, editing=True)
    if request.method == "POST" and form.is_valid():
        values = {k: form.cleaned_data[k] for k in ("area", "name", "name_zh", "active")}
        try:
            line_update(user=request.user, line_id=line.pk, reason=form.cleaned_data.get("reason", ""), **values)
        except USER_ERRORS as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("Line %(code)s saved.") % {"code": line.code})
            return redirect("orders:line_list")
    return render(request, "orders/line_form.html", {"form": form, "line": line})
