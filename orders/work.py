"""Home-page work cards: what is waiting for the planner, the supervisor and QA."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from mes.permcache import holds
from mes.workqueue import WorkCard
from orders.models import OrderStatus, ProductionOrder, Recipe, RecipeStatus


def cards(user) -> list[WorkCard]:
    result: list[WorkCard] = []
    if holds(user, "orders.add_productionorder"):
        returned = ProductionOrder.objects.filter(status=OrderStatus.RETURNED).count()
        drafts = ProductionOrder.objects.filter(status=OrderStatus.DRAFT, created_by=user).count()
        url = reverse("orders:order_list")
        result.append(
            WorkCard(
                _("Orders returned for change"),
                returned,
                f"{url}?status=returned",
                _("The reviewer gave a reason"),
                "warn" if returned else "ok",
            )
        )
        result.append(WorkCard(_("My draft orders"), drafts, f"{url}?status=draft", _("Submit them for approval")))
    if holds(user, "orders.approve_productionorder"):
        waiting = ProductionOrder.objects.filter(status=OrderStatus.SUBMITTED).count()
        result.append(
            WorkCard(
                _("Orders to approve"),
                waiting,
                reverse("orders:approval_queue"),
                _("Check resources and sign"),
                "warn" if waiting else "ok",
            )
        )
    if holds(user, "orders.release_productionorder"):
        approved = ProductionOrder.objects.filter(status=OrderStatus.APPROVED).count()
        result.append(
            WorkCard(
                _("Approved orders to release"),
                approved,
                f"{reverse('orders:order_list')}?status=approved",
                _("Release and create batches"),
            )
        )
    if holds(user, "orders.approve_recipe"):
        review = Recipe.objects.filter(status__in=(RecipeStatus.IN_REVIEW, RecipeStatus.APPROVED)).count()
        result.append(
            WorkCard(
                _("Master batch records for QA"),
                review,
                reverse("orders:recipe_review_queue"),
                _("Review, approve, make effective"),
                "warn" if review else "ok",
            )
        )
    return result
