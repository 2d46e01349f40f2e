"""Users, roles at nodes of the tree, scope helpers, API tokens and the personal-data access log."""
