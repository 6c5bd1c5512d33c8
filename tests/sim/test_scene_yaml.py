"""Scene files in YAML (same fields and errors as JSON) and videos of recorded frames."""

import json
import subprocess

import numpy as np
import pytest
import yaml

from tacsuite.sim.scene import example_scenes, load_scene

EXAMPLES = example_scenes()


def test_a_yaml_scene_is_the_json_scene():
    for name in ("hinged_lid", "fingertip_press_slide"):
        raw = json.loads(EXAMPLES[name].read_text())
        text = yaml.safe_dump(raw, sort_keys=False)
        assert text.strip()
        for suffix in (".yaml", ".yml"):
            p = EXAMPLES[name].parent / "__never_written__"      # only base_dir matters
            from tacsuite.sim.scene import _read_yaml, validate
            again = validate(_read_yaml(p.with_suffix(suffix), text), base_dir=p.parent)
            assert again == load_scene(EXAMPLES[name])


def test_yaml_numbers_errors_and_suffixes(tmp_path):
    raw = json.loads(EXAMPLES["hinged_lid"].read_text())
    raw["time"]["dt"] = "DT"
    text = yaml.safe_dump(raw, sort_keys=False).replace("DT", "5e-5")   # no dot: YAML 1.1
    p = tmp_path / "lid.yaml"
    p.write_text(text)
    assert load_scene(p)["time"]["dt"] == pytest.approx(5e-5, rel=1e-15)
    p.write_text(text.replace("5e-5", ".inf"))
    with pytest.raises(ValueError, match=r"scene field time.dt: must be a finite number"):
        load_scene(p)
    raw["time"]["dt"] = 5e-5
    raw["bodies"][0]["density"] = -1
    p.write_text(yaml.safe_dump(raw))
    with pytest.raises(ValueError, match=r"scene field bodies\[0\].density: must be > 0.0"):
        load_scene(p)
    p.write_text("name: lid\ntime: {substeps: 4\nbodies: []\n")
    with pytest.raises(ValueError, match=r"lid.yaml: not valid YAML \(line \d+, column \d+\)"):
        load_scene(p)
    p.write_text("- a list\n- not a scene\n")
    with pytest.raises(ValueError, match="a scene is a mapping of fields"):
        load_scene(p)
    q = tmp_path / "lid.toml"
    q.write_text("")
    with pytest.raises(ValueError, match=r"ends in one of \['.json', '.yaml', '.yml'\]"):
        load_scene(q)


def _pngs(tmp_path, n=3, size=(101, 75)):
    from PIL import Image
    out = []
    for k in range(n):
        img = np.full((size[1], size[0], 3), 255, np.uint8)
        img[:, : 20 + 30 * k] = (200, 30, 30)               # a red band that widens
        p = tmp_path / f"f{k}.png"
        Image.fromarray(img).save(p)
        out.append(p)
    return out


def test_videos_of_frames_gif_and_mp4(tmp_path):
    from PIL import Image

    from tacsuite.sim.scene_render import save_video
    pngs = _pngs(tmp_path)
    gif = save_video(tmp_path / "v.gif", pngs, fps=5)
    with Image.open(gif) as im:
        assert im.n_frames == 3 and im.size == (101, 75)
    with pytest.raises(ValueError, match=r"video format 'avi' is not supported"):
        save_video(tmp_path / "v.avi", pngs)
    ffmpeg = pytest.importorskip("imageio_ffmpeg").get_ffmpeg_exe()
    mp4 = save_video(tmp_path / "v.mp4", pngs, fps=5)
    assert not list(tmp_path.glob(".*partial*"))
    raw = subprocess.run([ffmpeg, "-v", "error", "-i", str(mp4), "-f", "rawvideo", "-pix_fmt",
                          "rgb24", "-"], capture_output=True, check=True).stdout
    frames = np.frombuffer(raw, np.uint8).reshape(-1, 80, 112, 3)   # padded to 16 px blocks
    assert len(frames) == 3
    for k, f in enumerate(frames):
        red = (f[40, :101, 0] > 150) & (f[40, :101, 1] < 110)
        # lossy H.264: the band's width within a few pixels of the original's
        assert abs(int(red.sum()) - (20 + 30 * k)) <= 4, (k, int(red.sum()))
