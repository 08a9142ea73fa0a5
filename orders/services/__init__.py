"""Services of the orders app: recipes (master batch records), production orders, training."""

from orders.services.orders import (  # noqa: F401
    ORDER_ACTIONS,
    order_approve,
    order_cancel,
    order_close,
    order_complete,
    order_create,
    order_create_batches,
    order_create_from_plan,
    order_problems,
    order_release,
    order_return,
    order_rework,
    order_start,
    order_submit,
    order_update,
    order_warnings,
)
from orders.services.recipes import (  # noqa: F401
    RECIPE_ACTIONS,
    effective_recipe,
    recipe_approve,
    recipe_bom_line_save,
    recipe_check_save,
    recipe_create,
    recipe_make_effective,
    recipe_new_version,
    recipe_parameter_save,
    recipe_part_remove,
    recipe_retire,
    recipe_return,
    recipe_step_save,
    recipe_submit,
    recipe_update,
)
from orders.services.training import training_is_current, training_record_create  # noqa: F401
