"""A user's 2D points from a CSV file (``points:path=FILE.csv``): reading, writing,
refusals, sampling with replacement, and training on it from the command line."""

import json

import pytest
import torch

import playground.core.data.points as points_module
from playground.cli import main
from playground.core.data import ALL_DATASETS, make_dataset
from playground.core.data.points import (
    MAX_POINTS,
    Points,
    read_points_csv,
    write_points_csv,
)
from playground.core.files import LIMITS, FileRefusedError


@pytest.fixture
def csv_file(tmp_path):
    """A CSV of 40 points on two clusters, written by write_points_csv."""
    rng = torch.Generator().manual_seed(0)
    centres = torch.tensor([[-2.0, 0.0], [2.0, 1.0]]).repeat(20, 1)
    points = centres + 0.1 * torch.randn(40, 2, generator=rng)
    path = tmp_path / "points.csv"
    write_points_csv(path, points)
    return path, points


def test_write_then_read_is_exact(csv_file):
    path, points = csv_file
    assert path.read_text().splitlines()[0] == "x1,x2"
    back = read_points_csv(path)
    assert back.dtype == torch.float32 and back.shape == (40, 2)
    assert torch.equal(back, points)


@pytest.mark.parametrize(
    "text",
    [
        "1,2\n3.5,-4\n\n5e-1,6\n",  # no header, a blank line
        "x,y\n1,2\n3.5,-4\n0.5,6\n",  # a header
        "\ufeffx1;x2\r\n1;2\r\n3.5;-4\r\n0.5;6\r\n",  # BOM, semicolons, CRLF
        "1 2\n3.5\t-4\n0.5   6\n",  # whitespace
    ],
)
def test_header_or_not_and_separators(tmp_path, text):
    path = tmp_path / "p.csv"
    path.write_bytes(text.encode("utf-8"))
    expected = torch.tensor([[1.0, 2.0], [3.5, -4.0], [0.5, 6.0]])
    assert torch.equal(read_points_csv(path), expected)


@pytest.mark.parametrize(
    "content, message",
    [
        ("x1,x2\n1,2\nthree,4\n", "line 3 is not two numbers"),
        ("1,2\n3,nan\n", "line 2 holds NaN or infinity"),
        ("1,2\n3,4\n-inf,1\n", "line 3 holds NaN or infinity"),
        ("1,2\n3,4,5\n", "line 2 has 3 columns, not 2"),
        ("1\n2\n", "line 1 has 1 columns, not 2"),
        ("x1,x2\n1,2\n", "1 point; at least 2"),
        ("", "empty"),
        ("x1,x2\n\n", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "binary"),
        (b"1,2\n\xff\xfe,3\n", "not UTF-8"),
        ("1,2\n1e39,0\n", "beyond float32"),
    ],
)
def test_bad_files_are_refused_with_one_clear_message(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(FileRefusedError, match=message) as caught:
        read_points_csv(path)
    assert str(caught.value).startswith(str(path)) and "\n" not in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_too_many_points_are_refused_while_reading(tmp_path, monkeypatch):
    assert MAX_POINTS == 1_000_000
    monkeypatch.setattr(points_module, "MAX_POINTS", 5)  # the same check, quickly
    path = tmp_path / "many.csv"
    path.write_text("0,0\n" * 6)
    with pytest.raises(FileRefusedError, match="more than 5 points"):
        read_points_csv(path)
    path.write_text("0,0\n" * 5)
    assert read_points_csv(path).shape == (5, 2)


def test_size_cap_is_checked_before_reading(tmp_path, monkeypatch):
    """A sparse file of LIMITS["csv"] + 1 bytes is refused from its size alone."""
    path = tmp_path / "huge.csv"
    with open(path, "wb") as f:
        f.truncate(LIMITS["csv"] + 1)
    monkeypatch.setattr("os.read", lambda *a: pytest.fail("read past the size check"))
    with pytest.raises(FileRefusedError, match="more than the"):
        read_points_csv(path)
    with pytest.raises(FileRefusedError, match="missing"):
        read_points_csv(tmp_path / "nope.csv")
    with pytest.raises(FileRefusedError, match="a folder"):
        read_points_csv(tmp_path)


def test_the_dataset_samples_only_given_points_reproducibly(csv_file):
    path, points = csv_file
    data = make_dataset(f"points:path={path}")
    assert isinstance(data, Points) and data.kind == "plane" and not data.has_log_prob
    x = data.sample(500, torch.Generator().manual_seed(3))
    assert x.shape == (500, 2) and x.dtype == torch.float32
    assert (x[:, None, :] == points[None]).all(dim=2).any(dim=1).all()  # only given points
    assert len(torch.unique(x, dim=0)) > 30  # with replacement, over (nearly) all points
    assert torch.equal(x, data.sample(500, torch.Generator().manual_seed(3)))
    assert not torch.equal(x, data.sample(500, torch.Generator().manual_seed(4)))
    xmin, xmax, ymin, ymax = data.box
    assert xmin < points[:, 0].min() and xmax > points[:, 0].max()
    assert ymin < points[:, 1].min() and ymax > points[:, 1].max()
    assert xmax - xmin == pytest.approx(ymax - ymin)  # square


def test_points_given_directly_and_missing_path():
    data = Points(points=torch.tensor([[0.0, 0.0], [1.0, 1.0]]))
    assert data.sample(4, torch.Generator().manual_seed(0)).shape == (4, 2)
    with pytest.raises(ValueError, match="points:path=FILE.csv"):
        Points()
    with pytest.raises(ValueError, match="n >= 2"):
        Points(points=torch.zeros(1, 2))
    with pytest.raises(ValueError, match="NaN"):
        Points(points=torch.tensor([[0.0, 0.0], [float("nan"), 1.0]]))
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        write_points_csv("unused.csv", torch.zeros(3))


def test_the_file_is_unchanged_and_a_density_model_refuses_it(csv_file):
    path, _ = csv_file
    before = path.read_bytes()
    from playground.core.training import Session

    with pytest.raises(ValueError, match="no density to score samples"):
        Session("realnvp", f"points:path={path}", {"objective": "reverse_kl"}, device="cpu")
    assert path.read_bytes() == before
    assert "points" in ALL_DATASETS


def test_train_gan_on_points_prints_metrics(csv_file, capsys):
    path, _ = csv_file
    argv = ["train", "gan", f"points:path={path}", "--steps", "20", "--eval-samples", "100"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["steps"] == 20 and out["dataset"].startswith("points")
    assert "grid_js" in out and 0 <= out["grid_js"] <= 1


def test_list_shows_points(capsys):
    assert main(["list", "--json"]) == 0
    cat = json.loads(capsys.readouterr().out)
    assert cat["datasets"]["points"]["options"] == {"path": "str"}
    assert "points" in cat["trainable"]["gan"] and "points" in cat["trainable"]["realnvp"]
    assert cat["datasets"]["points"]["exact_density"] is False
