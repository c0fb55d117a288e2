import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose is not installed")
def test_the_compose_file_parses():
    result = subprocess.run(
        ["docker-compose", "-f", "docker/compose.yaml", "config", "--quiet"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_the_image_installs_pango_for_weasyprint():
    dockerfile = (REPO / "docker" / "Dockerfile").read_text()
    assert "pango" in dockerfile.lower()
