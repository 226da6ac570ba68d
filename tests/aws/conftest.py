"""The AWS-facing tests use the session's moto server (``moto``, emptied before each test) from
``tests/conftest.py``."""
