"""Page handlers of the staff admin, one module per area."""
