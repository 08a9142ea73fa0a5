from django.urls import path

from orders.views import lines, orders, recipes, training

app_name = "orders"
urlpatterns = [
    path("", orders.order_list, name="order_list"),
    path("new/", orders.order_create_view, name="order_create"),
    path("approvals/", orders.approval_queue, name="approval_queue"),
    path("<int:pk>/", orders.order_detail, name="order_detail"),
    path("<int:pk>/edit/", orders.order_edit, name="order_edit"),
    path("<int:pk>/review/", orders.order_review, name="order_review"),
    path("<int:pk>/batches/", orders.order_batches, name="order_batches"),
    path("<int:pk>/do/<slug:action>/", orders.order_action, name="order_action"),
    path("recipes/", recipes.recipe_list, name="recipe_list"),
    path("recipes/new/", recipes.recipe_create_view, name="recipe_create"),
    path("recipes/review/", recipes.recipe_review_queue, name="recipe_review_queue"),
    path("recipes/<int:pk>/", recipes.recipe_detail, name="recipe_detail"),
    path("recipes/<int:pk>/edit/", recipes.recipe_edit, name="recipe_edit"),
    path("recipes/<int:pk>/new-version/", recipes.recipe_copy, name="recipe_copy"),
    path("recipes/<int:pk>/diff/", recipes.recipe_diff_view, name="recipe_diff"),
    path("recipes/<int:pk>/do/<slug:action>/", recipes.recipe_action, name="recipe_action"),
    path("recipes/<int:pk>/<slug:kind>/new/", recipes.recipe_part, name="recipe_part_add"),
    path("recipes/<int:pk>/<slug:kind>/<int:part>/", recipes.recipe_part, name="recipe_part_edit"),
    path("recipes/<int:pk>/steps/<int:step>/<slug:kind>/new/", recipes.recipe_part, name="recipe_step_part_add"),
    path(
        "recipes/<int:pk>/steps/<int:step>/<slug:kind>/<int:part>/", recipes.recipe_part, name="recipe_step_part_edit"
    ),
    path("recipes/<int:pk>/<slug:kind>/<int:part>/remove/", recipes.recipe_part_remove_view, name="recipe_part_remove"),
    path("training/", training.training_list, name="training_list"),
    path("training/new/", training.training_create, name="training_create"),
    path("lines/", lines.line_list, name="line_list"),
    path("lines/new/", lines.line_create_view, name="line_create"),
    path("lines/<int:pk>/edit/", lines.line_edit, name="line_edit"),
]
