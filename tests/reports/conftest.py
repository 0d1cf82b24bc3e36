from pathlib import Path

import pytest

from tests.dashboards.demo import demo_home


@pytest.fixture(scope="session")
def demo() -> Path:
    return demo_home()
