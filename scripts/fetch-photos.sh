#!/usr/bin/env bash
# Installs freely licensed real photos into data/photos/ (nothing of it is committed).
# Source: the sample images inside the scikit-image wheel on PyPI (downloaded, not installed).
# See data/photos/LICENSES.md after running it for each image's origin and licence.
set -euo pipefail
cd "$(dirname "$0")/.."
target=data/photos
version=0.26.0
photos=(astronaut.png coffee.png chelsea.png rocket.jpg hubble_deep_field.jpg camera.png brick.png grass.png gravel.png)
if [ -f "$target/LICENSES.md" ] && [ "$(ls "$target" | wc -l)" -gt "${#photos[@]}" ]; then exit 0; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python=$(command -v python3 || command -v python)
"$python" -m pip download --quiet --no-deps --only-binary=:all: "scikit-image==$version" -d "$tmp" \
  || "$python" -m pip download --quiet --no-deps "scikit-image==$version" -d "$tmp"
mkdir -p "$target"
"$python" - "$tmp" "$target" "${photos[@]}" <<'PY'
import pathlib, sys, zipfile
tmp, target, names = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3:]
wheel = next(tmp.glob("scikit_image-*"))
with zipfile.ZipFile(wheel) as z:
    for name in names:
        (target / name).write_bytes(z.read(f"skimage/data/{name}"))
PY
cat > "$target/LICENSES.md" <<'MD'
# Photos in this folder

Extracted by `scripts/fetch-photos.sh` from the scikit-image 0.26.0 wheel (PyPI); origins and
licences as stated in scikit-image's `skimage/data/_fetchers.py`. Not committed to the repository.

| file | what | licence |
| --- | --- | --- |
| astronaut.png | Eileen Collins, NASA portrait, 512×512 RGB | public domain (NASA) |
| coffee.png | a cup of coffee, 600×400 RGB, Rachel Michetti | CC0 |
| chelsea.png | Chelsea the cat, 451×300 RGB, Stefan van der Walt | CC0 |
| rocket.jpg | a SpaceX launch, 640×427 RGB | public domain (SpaceX) |
| hubble_deep_field.jpg | Hubble eXtreme Deep Field, 1000×872 RGB | public domain (NASA) |
| camera.png | a photographer, 512×512 grayscale, Lav Varshney | CC0 |
| brick.png, gravel.png | textures from CC0Textures, 512×512 grayscale | CC0 |
| grass.png | grass texture (DeviantArt, linolafett), 512×512 grayscale | CC0 |

Held-out split (by image, never crops of one photo on both sides): `astronaut.png`, `coffee.png`
and `chelsea.png` are for evaluation; the rest are for training.
MD
echo "photos in $target: $(ls "$target" | grep -v LICENSES | wc -l)"
