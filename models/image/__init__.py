"""Image generation with diffusers: presets, validation, generation, safety, batching."""
