-- 0003: the applied state of an integration (render.State as JSON: the objects its
-- last successful create, edit or migration made and the bundle version that rendered
-- them), sealed like config; NULL for none (stored before states were kept).

ALTER TABLE integrations ADD COLUMN applied_state BLOB;
