from tests.decode.oracle import balls_fixture  # noqa: F401
