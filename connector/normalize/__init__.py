"""Raw records -> ECS documents, driven by the declarative specs in ``mappings/``."""
