"""Text generation: causal language models served through transformers (see `backend`)."""
