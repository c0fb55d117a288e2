"""The registry's REST API: thin views over ``registry.services`` and ``registry.selectors``."""
