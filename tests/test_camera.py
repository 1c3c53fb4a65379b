"""Sources: --source parsing, real video decoding, image folders, missing devices and vanishing folders."""

from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest

from edge.camera import DEMO_VIDEO, CameraError, ImageFolder, OpenCVDevice, SourceError, VideoFile, parse_source


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty --source"),
        ("webcam", "unknown --source 'webcam'"),
        ("/no/such/video.mp4", "no such file or folder"),
        ("missing_clip.avi", "no such file or folder"),
    ],
)
def test_bad_source_strings_give_one_line_errors(text, message):
    with pytest.raises(SourceError) as err:
        parse_source(text)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_unknown_file_type_is_refused(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(SourceError, match="unknown file type .txt"):
        parse_source(str(path))


def test_source_strings_map_to_source_kinds(tmp_path, face_video):
    assert isinstance(parse_source("0"), OpenCVDevice)
    assert isinstance(parse_source("/dev/video7"), OpenCVDevice)
    assert isinstance(parse_source(str(face_video)), VideoFile)
    assert isinstance(parse_source(str(tmp_path)), ImageFolder)
    assert isinstance(parse_source("demo"), VideoFile)


def test_missing_camera_device_is_a_camera_error():
    with pytest.raises(CameraError, match="/dev/video99 not found"):
        with OpenCVDevice("/dev/video99"):
            pass


def test_video_file_reads_real_frames_then_ends(face_video):
    with VideoFile(face_video) as source:
        frames = []
        while (frame := source.read()) is not None:
            frames.append(frame)
    assert len(frames) == 30  # 4 faces × 6 frames + 6 blank frames, as written
    first = frames[0]
    assert first.image.shape == (480, 640, 3) and first.image.dtype == np.uint8
    assert first.gray.shape == (480, 640)
    assert [f.index for f in frames] == list(range(30))
    assert all(b.timestamp >= a.timestamp for a, b in zip(frames, frames[1:]))
    # The decoded grey frame agrees with OpenCV's own conversion of the RGB frame.
    assert np.abs(cv2.cvtColor(first.image, cv2.COLOR_RGB2GRAY).astype(int) - first.gray).max() <= 1


def test_looping_video_keeps_going(face_video):
    with VideoFile(face_video, loop=True) as source:
        frames = [source.read() for _ in range(45)]
    assert all(f is not None for f in frames)
    assert np.array_equal(frames[0].gray, frames[30].gray)  # wrapped around to the first frame


def test_paced_video_plays_at_its_frame_rate(face_video):
    with VideoFile(face_video, pace=True) as source:
        t = [source.read().timestamp for _ in range(8)]
    # Written at 15 fps: pacing never plays it faster (a slow machine may play it slower, so no upper bound;
    # the small margin is the first frame's decode, which lands after its due time).
    assert t[-1] - t[0] >= 7 / 15 - 0.05


def test_undecodable_video_is_a_camera_error(tmp_path):
    path = tmp_path / "broken.mp4"
    path.write_bytes(b"\x00" * 2048)
    with pytest.raises(CameraError):
        with VideoFile(path) as source:
            source.read()


def test_image_folder_skips_corrupt_images(tmp_path, astronaut_gray):
    cv2.imwrite(str(tmp_path / "a.png"), astronaut_gray)
    (tmp_path / "b.jpg").write_bytes(b"not a jpeg")
    (tmp_path / "sub").mkdir()
    cv2.imwrite(str(tmp_path / "sub" / "c.jpg"), astronaut_gray)  # folders are read recursively
    with ImageFolder(tmp_path) as source:
        frames = []
        while (frame := source.read()) is not None:
            frames.append(frame)
    assert len(frames) == 2
    assert frames[0].gray.shape == astronaut_gray.shape


def test_image_folder_that_disappears_is_a_camera_error(tmp_path, astronaut_gray):
    folder = tmp_path / "shots"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.png"), astronaut_gray)
    cv2.imwrite(str(folder / "b.png"), astronaut_gray)
    source = ImageFolder(folder, loop=True)
    with source:
        assert source.read() is not None
        shutil.rmtree(folder)
        with pytest.raises(CameraError, match="disappeared"):
            source.read()


def test_bundled_demo_is_small_and_plays():
    assert DEMO_VIDEO.is_file(), "assets/demo/demo.mp4 missing (build it with convert/calibrate_crop.py --demo-out)"
    assert DEMO_VIDEO.stat().st_size < 1_000_000
    with parse_source("demo", pace=False) as source:
        frame = source.read()
    assert frame.image.shape == (480, 640, 3)


def test_auto_falls_back_to_the_bundled_demo_without_a_camera():
    import importlib.util
    import os

    if os.path.exists("/dev/video0") or importlib.util.find_spec("picamera2"):
        pytest.skip("this machine has a camera (or picamera2); auto would pick it")
    source = parse_source("auto")
    assert isinstance(source, VideoFile) and source.path == DEMO_VIDEO and source.loop


def test_broken_images_are_warned_once_until_they_change(tmp_path, astronaut_gray, caplog):
    """A retried folder of broken images (the exhibit reopens a lost source for hours) must not repeat its warnings,
    nor re-decode known-bad files (libjpeg prints its own line for each); a file that changes is tried again."""
    bad = tmp_path / "a.jpg"
    bad.write_bytes(b"not a jpeg")
    source = ImageFolder(tmp_path, loop=True)
    with caplog.at_level("WARNING", logger="edge.camera.sources"):
        for _ in range(3):  # three reopen attempts, as the pipeline makes them
            with pytest.raises(CameraError, match="none of the images"):
                with source:
                    source.read()
    assert [r.getMessage() for r in caplog.records] == [f"skipping unreadable image {bad}"]
    cv2.imwrite(str(bad.with_suffix(".png")), astronaut_gray)  # a new, good image appears
    bad.write_bytes(b"still not a jpeg, but changed")
    caplog.clear()
    with caplog.at_level("WARNING", logger="edge.camera.sources"), source:
        assert source.read() is not None
    assert [r.getMessage() for r in caplog.records] == [f"skipping unreadable image {bad}"]  # changed: tried again


def test_failed_opens_print_nothing_of_opencvs_own(tmp_path, capfd):
    """OpenCV/FFmpeg write their own warnings straight to fd 2 on every attempt; our CameraError says it once."""
    fake = tmp_path / "fake.mp4"
    fake.write_text("just text")
    for _ in range(2):
        with pytest.raises(CameraError, match="cannot be decoded"):
            with VideoFile(fake) as source:
                source.read()
        with pytest.raises(CameraError, match="cannot be opened"):
            with OpenCVDevice(9) as camera:
                camera.read()
    err = capfd.readouterr().err
    assert "moov atom" not in err and "can't open camera" not in err and "VIDEOIO" not in err, err
