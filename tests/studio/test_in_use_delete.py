"""The studio row's Delete goes through the in-use guard: an image live instances run stays, and the row says why."""

from __future__ import annotations


async def test_the_row_delete_of_an_image_in_use_is_refused_and_said(controller, mock_emulator) -> None:
    backend = mock_emulator.backend
    image = next(i for i in backend.images.values() if i.image_type == "CUSTOM_IMAGE" and i.status == "AVAILABLE")
    record = next(r for r in backend._instances.values() if r.zone_id == image.zone_id)  # the record, not a copy
    record.image_id, record.cached_json = image.image_id, None
    await controller.confirm_delete(image.image_id)
    assert image.image_id in backend.images
    image_id, level, text, zone = controller.image_note
    assert (image_id, level, zone) == (image.image_id, "error", image.zone_id)
    assert "in use" in text and record.instance_id in text
