#!/usr/bin/env bash
# Installs the photos the default model (configs/default-2x.yaml) is trained and evaluated on into
# data/default-2x/{train,validation}/ — nothing of it is committed. Sources, both fetched from the
# registries this project may use:
#   - the photos in Debian's mate-backgrounds package (nature/*.jpg, GPL-2+), via `apt-get download`
#     (no installation, no root needed), and
#   - sample photos in the scikit-image 0.26.0 wheel on PyPI (public domain / CC0).
# The split is fixed by image (never crops of one photo on both sides); data/default-2x/LICENSES.md
# lists every file, its origin, licence and side.
set -euo pipefail
cd "$(dirname "$0")/.."
target=data/default-2x
train_skimage=(rocket.jpg hubble_deep_field.jpg camera.png brick.png grass.png gravel.png motorcycle_left.png coins.png moon.png)
validation_skimage=(astronaut.png coffee.png chelsea.png)
train_mate=(Aqua.jpg Blinds.jpg Dune.jpg FreshFlower.jpg Garden.jpg GreenMeadow.jpg RainDrops.jpg TwoWings.jpg Wood.jpg YellowFlower.jpg)
validation_mate=(LadyBird.jpg Storm.jpg)
if [ -f "$target/LICENSES.md" ]; then exit 0; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$target/train" "$target/validation"

download() { (cd "$tmp" && apt-get download mate-backgrounds >/dev/null 2>&1); }
if ! download; then  # a fresh machine may have no package lists yet
  sudo=$([ "$(id -u)" = 0 ] || echo sudo)
  $sudo apt-get update -qq >/dev/null 2>&1 || true
  download || { echo "could not download Debian's mate-backgrounds package (apt-get download mate-backgrounds)" >&2; exit 1; }
fi
dpkg-deb -x "$tmp"/mate-backgrounds_*.deb "$tmp/mate"
nature="$tmp/mate/usr/share/backgrounds/mate/nature"
for f in "${train_mate[@]}"; do cp "$nature/$f" "$target/train/mate-$f"; done
for f in "${validation_mate[@]}"; do cp "$nature/$f" "$target/validation/mate-$f"; done
mate_version=$(dpkg-deb -f "$tmp"/mate-backgrounds_*.deb Version)

python=$(command -v python3 || command -v python)
"$python" -m pip download --quiet --no-deps --only-binary=:all: "scikit-image==0.26.0" -d "$tmp" \
  || "$python" -m pip download --quiet --no-deps "scikit-image==0.26.0" -d "$tmp"
"$python" - "$tmp" "$target" "${#train_skimage[@]}" "${train_skimage[@]}" "${validation_skimage[@]}" <<'PY'
import pathlib, sys, zipfile
tmp, target, n_train, names = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
wheel = next(tmp.glob("scikit_image-*"))
with zipfile.ZipFile(wheel) as z:
    for i, name in enumerate(names):
        side = "train" if i < n_train else "validation"
        (target / side / f"skimage-{name}").write_bytes(z.read(f"skimage/data/{name}"))
PY

{
  echo "# Photos of the default model (configs/default-2x.yaml)"
  echo
  echo "Installed by \`scripts/fetch-training-photos.sh\`; not committed. Split by image: \`train/\` for"
  echo "training, \`validation/\` for validation during training and for \`fmboost eval\` (held out)."
  echo
  echo "| file | side | origin | licence |"
  echo "| --- | --- | --- | --- |"
  for f in "${train_mate[@]}"; do echo "| mate-$f | train | Debian mate-backgrounds $mate_version, nature/$f (authors in its debian/copyright) | GPL-2+ |"; done
  for f in "${validation_mate[@]}"; do echo "| mate-$f | validation | Debian mate-backgrounds $mate_version, nature/$f (authors in its debian/copyright) | GPL-2+ |"; done
  for f in "${train_skimage[@]}"; do echo "| skimage-$f | train | scikit-image 0.26.0 wheel, skimage/data/$f | public domain or CC0 (skimage/data/_fetchers.py) |"; done
  for f in "${validation_skimage[@]}"; do echo "| skimage-$f | validation | scikit-image 0.26.0 wheel, skimage/data/$f | public domain or CC0 (skimage/data/_fetchers.py) |"; done
} > "$target/LICENSES.md"
echo "photos in $target: $(ls "$target/train" | wc -l) for training, $(ls "$target/validation" | wc -l) held out"
