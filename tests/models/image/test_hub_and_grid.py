"""Model presence checks (no network) and grid layout."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from models.image import hub
from models.image.grid import make_grid
from tests.helpers.network import refused_network


def test_installed_local_folder(tiny_folder: Path, tmp_path: Path) -> None:
    assert hub.installed(str(tiny_folder))
    assert hub.local_path(str(tiny_folder)) == tiny_folder
    assert not hub.installed(str(tmp_path))  # a folder without model_index.json / config.json
    assert not hub.installed(str(tmp_path / "missing"))


def test_hub_id_not_in_cache_is_not_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Answered from the cache alone: not one connection is tried."""
    with refused_network(monkeypatch) as attempts:
        assert not hub.installed("stabilityai/sd-turbo", cache_dir=tmp_path)
        assert not hub.installed("not a valid id!", cache_dir=tmp_path)
    assert attempts == []


def test_hub_id_in_cache_is_installed(tmp_path: Path) -> None:
    snapshot = tmp_path / "models--acme--tiny" / "snapshots" / ("a" * 40)
    snapshot.mkdir(parents=True)
    (snapshot / "model_index.json").write_text("{}")
    (tmp_path / "models--acme--tiny" / "refs").mkdir()
    (tmp_path / "models--acme--tiny" / "refs" / "main").write_text("a" * 40)
    assert hub.local_path("acme/tiny", cache_dir=tmp_path) == snapshot


def test_pull_refuses_a_local_folder(tiny_folder: Path) -> None:
    with pytest.raises(ValueError, match="local folder"):
        hub.pull(str(tiny_folder))


@pytest.mark.parametrize(("count", "size"), [(1, (64, 96)), (2, (128, 96)), (3, (128, 192)), (4, (128, 192))])
def test_grid_layout(count: int, size: tuple[int, int]) -> None:
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)]
    grid = make_grid([Image.new("RGB", (64, 96), colours[i]) for i in range(count)])
    assert grid.size == size
    assert grid.getpixel((10, 10)) == colours[0]
    if count == 4:
        assert grid.getpixel((70, 100)) == colours[3]
