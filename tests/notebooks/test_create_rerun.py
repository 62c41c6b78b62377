"""The create runbook run again (headless, papermill) after it made its image: it reports that image,
``already_made``, and the sandbox still holds one image of that name."""

from __future__ import annotations

import zenlayer_widgets as zw

from .test_runbooks_headless import demo_id, json_summary, outputs_text, run_create, sandbox_env  # noqa: F401


def images_named(name: str) -> list[str]:
    with zw.connect() as client:  # the same sandbox the kernels used
        return [i.image_id for i in client.list_images("HKG-A", image_name=name) if i.image_name == name]


def test_the_create_runbook_run_again_reports_the_image_it_made(sandbox_env):  # noqa: F811
    build = demo_id("build-hkg-01")
    first = json_summary(run_create(sandbox_env, "first.ipynb", instance_id=build, image_name="rerun-safe",
                                    image_description="nightly"))
    again_nb = run_create(sandbox_env, "again.ipynb", instance_id=build, image_name="rerun-safe",
                          image_description="nightly")
    again = json_summary(again_nb)
    assert (first["already_made"], again["already_made"]) == (False, True)
    assert (again["ok"], again["status"], again["image_id"]) == (True, "AVAILABLE", first["image_id"])
    assert f"Image rerun-safe ({first['image_id']}) is AVAILABLE in HKG-A (made by an earlier run" in outputs_text(again_nb)
    assert images_named("rerun-safe") == [first["image_id"]]
