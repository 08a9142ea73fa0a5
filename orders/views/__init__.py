"""Pages of the orders app (thin: each validates a form and calls one service)."""
