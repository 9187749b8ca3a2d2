"""Model backends. Heavy libraries (torch, transformers, diffusers) are imported lazily inside backends."""
