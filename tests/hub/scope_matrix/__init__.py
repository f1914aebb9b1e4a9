"""The oracle of tests/hub/test_scope_matrix.py: what each account reads (``seen``, ``reads``) and
writes (``writes``) in the world of tests/hub/scope_world.py."""
