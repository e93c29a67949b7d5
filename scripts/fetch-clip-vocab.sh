#!/usr/bin/env bash
# Installs openai/CLIP's BPE vocabulary (bpe_simple_vocab_16e6.txt.gz, MIT) into data/clip/ for the
# SD1.5 tokenizer (nothing of it is committed). Source: `open_clip/bpe_simple_vocab_16e6.txt.gz`
# inside the open-clip-torch 3.3.0 wheel on PyPI (downloaded, not installed), checked against the
# sha256 the golden tokenizer fixture records and the wheel's RECORD.
set -euo pipefail
cd "$(dirname "$0")/.."
target=data/clip
file=bpe_simple_vocab_16e6.txt.gz
version=3.3.0
sha256=924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a
python=$(command -v python3 || command -v python)
sha256_of() { "$python" -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$1"; }
if [ -f "$target/$file" ] && [ "$(sha256_of "$target/$file")" = "$sha256" ]; then exit 0; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$python" -m pip download --quiet --no-deps --only-binary=:all: "open-clip-torch==$version" -d "$tmp"
mkdir -p "$target"
"$python" - "$tmp" "$target/$file" "$sha256" "$target/LICENSE.txt" <<'PY'
import base64, hashlib, pathlib, sys, zipfile
tmp, out, sha256, license_out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3], pathlib.Path(sys.argv[4])
wheel = next(tmp.glob("open_clip_torch-*.whl"))
member = "open_clip/bpe_simple_vocab_16e6.txt.gz"
with zipfile.ZipFile(wheel) as z:
    data = z.read(member)
    record = z.read(next(n for n in z.namelist() if n.endswith(".dist-info/RECORD"))).decode()
    license_text = z.read(next(n for n in z.namelist() if n.endswith("LICENSE")))
if hashlib.sha256(data).hexdigest() != sha256:
    sys.exit(f"fetch-clip-vocab: {member} has sha256 {hashlib.sha256(data).hexdigest()}, expected {sha256}")
row = next(l for l in record.splitlines() if l.startswith(member + ","))
if base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode() != row.split(",")[1].removeprefix("sha256="):
    sys.exit("fetch-clip-vocab: the file differs from the wheel's RECORD")
partial = out.with_suffix(".partial")
partial.write_bytes(data)
partial.replace(out)
license_out.write_bytes(license_text)
PY
echo "CLIP vocabulary in $target/$file ($(wc -c < "$target/$file") bytes)"
