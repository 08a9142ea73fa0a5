"""Who may do what with recipes, orders and training records (least privilege)."""

_ORDER_VIEW = ["orders.view_productionorder"]
_RECIPE_VIEW = ["orders.view_recipe"]

ROLE_PERMISSIONS = {
    # The planner creates, changes, submits and cancels (draft) orders.
    "planner": [
        *_ORDER_VIEW,
        *_RECIPE_VIEW,
        "orders.add_productionorder",
        "orders.change_productionorder",
        "orders.submit_productionorder",
        "orders.cancel_productionorder",
    ],
    # The production supervisor approves, releases and runs orders, creates batches, authors recipes
    # and keeps the training records of the shop floor.
    "supervisor": [
        *_ORDER_VIEW,
        *_RECIPE_VIEW,
        "orders.approve_productionorder",
        "orders.release_productionorder",
        "orders.cancel_productionorder",
        "orders.create_batches_productionorder",
        "orders.add_recipe",
        "orders.change_recipe",
        "orders.submit_recipe",
        "orders.view_trainingrecord",
        "orders.add_trainingrecord",
    ],
    # QA approves master batch records, makes them effective or retires them, and records training.
    "qa": [
        *_ORDER_VIEW,
        *_RECIPE_VIEW,
        "orders.approve_recipe",
        "orders.make_effective_recipe",
        "orders.retire_recipe",
        "orders.view_trainingrecord",
        "orders.add_trainingrecord",
    ],
    "operator": [*_RECIPE_VIEW],
    "qc": [*_ORDER_VIEW, *_RECIPE_VIEW],
    "warehouse": [*_ORDER_VIEW],
    "analyst": [*_ORDER_VIEW, *_RECIPE_VIEW],
    "auditor": [*_ORDER_VIEW, *_RECIPE_VIEW, "orders.view_trainingrecord", "mes.view_line"],
    # The administrator keeps the plant hierarchy (lines / work centres).
    "admin": ["mes.view_line", "mes.add_line", "mes.change_line"],
}
ROLE_PERMISSIONS["planner"].append("mes.view_line")
ROLE_PERMISSIONS["supervisor"].append("mes.view_line")
