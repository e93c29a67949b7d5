#!/usr/bin/env bash
# Installs every freely licensed photograph (no vector art, logos, renders, diagrams or screenshots;
# at least 256 px on the short side) that these registry packages carry into
# data/sr-photos/{train,validation}/ — nothing of it is committed:
#   - Debian: mate-backgrounds, lomiri-wallpapers-16.04, lomiri-wallpapers-20.04,
#     plasma-workspace-wallpapers, palapeli-data, opencv-doc, libjxl-testdata, via `apt-get download`
#     and `dpkg-deb -x` into a temporary folder (no installation, no root needed);
#   - PyPI wheels scikit-image 0.26.0, scikit-learn 1.9.1 and matplotlib 3.11.2 (`pip download`).
# Files are copied byte for byte (PNG or JPEG as shipped; nothing is re-encoded). The split is fixed by
# scene: the validation list below is the ~15% with the most detail (foliage, fur, fabric, text,
# buildings); of a stereo pair, a multi-resolution wallpaper or an edited copy only one image is kept.
# data/sr-photos/LICENSES.md lists every file, its package, path, licence and side;
# docs/sr-photos.md describes the set. A second run is a no-op while every listed file is there.
set -euo pipefail
cd "$(dirname "$0")/.."
target=data/sr-photos
skimage_version=0.26.0 sklearn_version=1.9.1 matplotlib_version=3.11.2

# name in data/sr-photos | package | path inside the package | licence (from the package's copyright
# file, the wallpaper's metadata.json or the wheel's data README / _fetchers.py)
photos=(
  "lomiri16-Bridge_by_Sander_Klootwijk.jpg|lomiri-wallpapers-16.04|usr/share/backgrounds/Bridge_by_Sander_Klootwijk.jpg|CC-BY-SA-4.0"
  "lomiri16-Dragonfly_by_Bolly.jpg|lomiri-wallpapers-16.04|usr/share/backgrounds/Dragonfly_by_Bolly.jpg|CC-BY-SA-4.0"
  "lomiri16-Picture_0B_by_freespace.jpg|lomiri-wallpapers-16.04|usr/share/backgrounds/Picture_0B_by_freespace.jpg|CC-BY-4.0"
  "lomiri16-Picture_1A_by_freespace.jpg|lomiri-wallpapers-16.04|usr/share/backgrounds/Picture_1A_by_freespace.jpg|CC-BY-4.0"
  "lomiri16-Wine_by_Jakkub_Mede.jpg|lomiri-wallpapers-16.04|usr/share/backgrounds/Wine_by_Jakkub_Mede.jpg|CC-BY-4.0"
  "lomiri16-aitzgorri_by_Aitzol_Berasategi.jpg|lomiri-wallpapers-16.04|usr/share/backgrounds/aitzgorri_by_Aitzol_Berasategi.jpg|CC-BY-4.0"
  "lomiri16-free_by_Peter_Nerlich.jpg|lomiri-wallpapers-16.04|usr/share/backgrounds/free_by_Peter_Nerlich.jpg|CC-BY-SA-4.0"
  "lomiri16-friends_by_Aitzol_Berasategi.jpg|lomiri-wallpapers-16.04|usr/share/backgrounds/friends_by_Aitzol_Berasategi.jpg|CC-BY-4.0"
  "lomiri16-greentock_by_Peter_Nerlich.jpg|lomiri-wallpapers-16.04|usr/share/backgrounds/greentock_by_Peter_Nerlich.jpg|CC-BY-SA-4.0"
  "lomiri16-life_by_Aitzol_Berasategi.jpg|lomiri-wallpapers-16.04|usr/share/backgrounds/life_by_Aitzol_Berasategi.jpg|CC-BY-4.0"
  "lomiri16-picosdeeuropa_by_Aitzol_Berasategi.jpg|lomiri-wallpapers-16.04|usr/share/backgrounds/picosdeeuropa_by_Aitzol_Berasategi.jpg|CC-BY-4.0"
  "lomiri16-seeding_by_Clements_Engelhardt.jpg|lomiri-wallpapers-16.04|usr/share/backgrounds/seeding_by_Clements_Engelhardt.jpg|CC0-1.0"
  "lomiri16-sunset_by_Aitzol_Berasategi.jpg|lomiri-wallpapers-16.04|usr/share/backgrounds/sunset_by_Aitzol_Berasategi.jpg|CC-BY-4.0"
  "lomiri20-Kleiber_by_Lukas_Baubkus.jpg|lomiri-wallpapers-20.04|usr/share/backgrounds/Kleiber_by_Lukas_Baubkus.jpg|CC-BY-SA-3.0"
  "mate-Aqua.jpg|mate-backgrounds|usr/share/backgrounds/mate/nature/Aqua.jpg|GPL-2+"
  "mate-Blinds.jpg|mate-backgrounds|usr/share/backgrounds/mate/nature/Blinds.jpg|GPL-2+"
  "mate-Dune.jpg|mate-backgrounds|usr/share/backgrounds/mate/nature/Dune.jpg|GPL-2+"
  "mate-FreshFlower.jpg|mate-backgrounds|usr/share/backgrounds/mate/nature/FreshFlower.jpg|GPL-2+"
  "mate-Garden.jpg|mate-backgrounds|usr/share/backgrounds/mate/nature/Garden.jpg|GPL-2+"
  "mate-GreenMeadow.jpg|mate-backgrounds|usr/share/backgrounds/mate/nature/GreenMeadow.jpg|GPL-2+"
  "mate-LadyBird.jpg|mate-backgrounds|usr/share/backgrounds/mate/nature/LadyBird.jpg|GPL-2+"
  "mate-RainDrops.jpg|mate-backgrounds|usr/share/backgrounds/mate/nature/RainDrops.jpg|GPL-2+"
  "mate-Storm.jpg|mate-backgrounds|usr/share/backgrounds/mate/nature/Storm.jpg|GPL-2+"
  "mate-TwoWings.jpg|mate-backgrounds|usr/share/backgrounds/mate/nature/TwoWings.jpg|GPL-2+"
  "mate-Wood.jpg|mate-backgrounds|usr/share/backgrounds/mate/nature/Wood.jpg|GPL-2+"
  "mate-YellowFlower.jpg|mate-backgrounds|usr/share/backgrounds/mate/nature/YellowFlower.jpg|GPL-2+"
  "plasma-BytheWater.jpg|plasma-workspace-wallpapers|usr/share/wallpapers/BytheWater/contents/images/2560x1600.jpg|LGPL-3"
  "plasma-ColdRipple.jpg|plasma-workspace-wallpapers|usr/share/wallpapers/ColdRipple/contents/images/2560x1600.jpg|LGPL-3"
  "plasma-ColorfulCups.jpg|plasma-workspace-wallpapers|usr/share/wallpapers/ColorfulCups/contents/images/2560x1600.jpg|LGPL-3"
  "plasma-DarkestHour.jpg|plasma-workspace-wallpapers|usr/share/wallpapers/DarkestHour/contents/images/2560x1600.jpg|LGPL-3"
  "plasma-EveningGlow.jpg|plasma-workspace-wallpapers|usr/share/wallpapers/EveningGlow/contents/images/2560x1600.jpg|LGPL-3"
  "plasma-FallenLeaf.jpg|plasma-workspace-wallpapers|usr/share/wallpapers/FallenLeaf/contents/images/2560x1600.jpg|LGPL-3"
  "plasma-Grey.jpg|plasma-workspace-wallpapers|usr/share/wallpapers/Grey/contents/images/2560x1600.jpg|LGPL-3"
  "plasma-Kite.jpg|plasma-workspace-wallpapers|usr/share/wallpapers/Kite/contents/images/2560x1600.jpg|LGPL-3"
  "plasma-OneStandsOut.jpg|plasma-workspace-wallpapers|usr/share/wallpapers/OneStandsOut/contents/images/2560x1600.jpg|LGPL-3"
  "plasma-Path.jpg|plasma-workspace-wallpapers|usr/share/wallpapers/Path/contents/images/2560x1600.jpg|LGPL-3"
  "plasma-summer_1am.jpg|plasma-workspace-wallpapers|usr/share/wallpapers/summer_1am/contents/images/2560x1600.jpg|LGPL-3"
  "palapeli-castle-maintenon.jpg|palapeli-data|usr/share/palapeli/collection/castle-maintenon.jpg|GPL-2+"
  "palapeli-cincinnati-bridge.jpg|palapeli-data|usr/share/palapeli/collection/cincinnati-bridge.jpg|GPL-2+"
  "palapeli-citrus-fruits.jpg|palapeli-data|usr/share/palapeli/collection/citrus-fruits.jpg|GPL-2+"
  "palapeli-european-honey-bee.jpg|palapeli-data|usr/share/palapeli/collection/european-honey-bee.jpg|GPL-2+"
  "palapeli-panther-chameleon-female.jpg|palapeli-data|usr/share/palapeli/collection/panther-chameleon-female.jpg|GPL-2+"
  "jxl-flower.png|libjxl-testdata|usr/share/libjxl-testdata/jxl/flower/flower.png|BSD-3-clause (Google)"
  "jxl-cvo9xd_keong_macan.png|libjxl-testdata|usr/share/libjxl-testdata/external/wesaturate/500px/cvo9xd_keong_macan_srgb8.png|CC0"
  "jxl-tmshre_riaphotographs.png|libjxl-testdata|usr/share/libjxl-testdata/external/wesaturate/500px/tmshre_riaphotographs_srgb8.png|CC0"
  "jxl-u76c0g_bliznaca.png|libjxl-testdata|usr/share/libjxl-testdata/external/wesaturate/500px/u76c0g_bliznaca_srgb8.png|CC0"
  "opencv-aero1.jpg|opencv-doc|usr/share/doc/opencv-doc/examples/data/aero1.jpg|Apache-2.0 AND BSD-3-Clause"
  "opencv-aloeL.jpg|opencv-doc|usr/share/doc/opencv-doc/examples/data/aloeL.jpg|Apache-2.0 AND BSD-3-Clause"
  "opencv-apple.jpg|opencv-doc|usr/share/doc/opencv-doc/examples/data/apple.jpg|Apache-2.0 AND BSD-3-Clause"
  "opencv-board.jpg|opencv-doc|usr/share/doc/opencv-doc/examples/data/board.jpg|Apache-2.0 AND BSD-3-Clause"
  "opencv-building.jpg|opencv-doc|usr/share/doc/opencv-doc/examples/data/building.jpg|Apache-2.0 AND BSD-3-Clause"
  "opencv-butterfly.jpg|opencv-doc|usr/share/doc/opencv-doc/examples/data/butterfly.jpg|Apache-2.0 AND BSD-3-Clause"
  "opencv-ela_original.jpg|opencv-doc|usr/share/doc/opencv-doc/examples/data/ela_original.jpg|Apache-2.0 AND BSD-3-Clause"
  "opencv-fruits.jpg|opencv-doc|usr/share/doc/opencv-doc/examples/data/fruits.jpg|Apache-2.0 AND BSD-3-Clause"
  "opencv-graf1.png|opencv-doc|usr/share/doc/opencv-doc/examples/data/graf1.png|Apache-2.0 AND BSD-3-Clause"
  "opencv-home.jpg|opencv-doc|usr/share/doc/opencv-doc/examples/data/home.jpg|Apache-2.0 AND BSD-3-Clause"
  "opencv-left.jpg|opencv-doc|usr/share/doc/opencv-doc/examples/data/left.jpg|Apache-2.0 AND BSD-3-Clause"
  "opencv-leuvenA.jpg|opencv-doc|usr/share/doc/opencv-doc/examples/data/leuvenA.jpg|Apache-2.0 AND BSD-3-Clause"
  "opencv-orange.jpg|opencv-doc|usr/share/doc/opencv-doc/examples/data/orange.jpg|Apache-2.0 AND BSD-3-Clause"
  "opencv-rubberwhale1.png|opencv-doc|usr/share/doc/opencv-doc/examples/data/rubberwhale1.png|Apache-2.0 AND BSD-3-Clause"
  "opencv-squirrel_cls.jpg|opencv-doc|usr/share/doc/opencv-doc/examples/data/squirrel_cls.jpg|Apache-2.0 AND BSD-3-Clause"
  "opencv-plant.jpg|opencv-doc|usr/share/doc/opencv-doc/examples/alphamat/input_images/plant.jpg|Apache-2.0 AND BSD-3-Clause"
  "opencv-scenetext01.jpg|opencv-doc|usr/share/doc/opencv-doc/examples/text/scenetext01.jpg|Apache-2.0 AND BSD-3-Clause"
  "opencv-scenetext02.jpg|opencv-doc|usr/share/doc/opencv-doc/examples/text/scenetext02.jpg|Apache-2.0 AND BSD-3-Clause"
  "opencv-scenetext03.jpg|opencv-doc|usr/share/doc/opencv-doc/examples/text/scenetext03.jpg|Apache-2.0 AND BSD-3-Clause"
  "opencv-scenetext04.jpg|opencv-doc|usr/share/doc/opencv-doc/examples/text/scenetext04.jpg|Apache-2.0 AND BSD-3-Clause"
  "opencv-scenetext05.jpg|opencv-doc|usr/share/doc/opencv-doc/examples/text/scenetext05.jpg|Apache-2.0 AND BSD-3-Clause"
  "skimage-astronaut.png|scikit-image|skimage/data/astronaut.png|public domain (NASA)"
  "skimage-brick.png|scikit-image|skimage/data/brick.png|CC0"
  "skimage-camera.png|scikit-image|skimage/data/camera.png|CC0"
  "skimage-chelsea.png|scikit-image|skimage/data/chelsea.png|CC0"
  "skimage-coffee.png|scikit-image|skimage/data/coffee.png|CC0"
  "skimage-coins.png|scikit-image|skimage/data/coins.png|no known copyright restrictions"
  "skimage-grass.png|scikit-image|skimage/data/grass.png|CC0"
  "skimage-gravel.png|scikit-image|skimage/data/gravel.png|CC0"
  "skimage-hubble_deep_field.jpg|scikit-image|skimage/data/hubble_deep_field.jpg|public domain (NASA)"
  "skimage-moon.png|scikit-image|skimage/data/moon.png|no known copyright restrictions"
  "skimage-motorcycle_left.png|scikit-image|skimage/data/motorcycle_left.png|not stated in _fetchers.py (Middlebury 2014 stereo benchmark, downsampled); wheel is BSD-3-Clause"
  "skimage-rocket.jpg|scikit-image|skimage/data/rocket.jpg|public domain (SpaceX)"
  "sklearn-china.jpg|scikit-learn|sklearn/datasets/images/china.jpg|CC-BY-2.0 (danielbuechele)"
  "sklearn-flower.jpg|scikit-learn|sklearn/datasets/images/flower.jpg|CC-BY-2.0 (vultilion)"
  "matplotlib-grace_hopper.jpg|matplotlib|matplotlib/mpl-data/sample_data/grace_hopper.jpg|public domain (US Navy photograph)"
)
# The held-out set: fixed, the scenes with the most fine detail. Everything else is train/.
validation=(
  lomiri16-life_by_Aitzol_Berasategi.jpg lomiri16-picosdeeuropa_by_Aitzol_Berasategi.jpg
  plasma-OneStandsOut.jpg plasma-Path.jpg plasma-EveningGlow.jpg
  palapeli-castle-maintenon.jpg palapeli-european-honey-bee.jpg
  opencv-leuvenA.jpg opencv-scenetext01.jpg opencv-graf1.png opencv-board.jpg
  skimage-chelsea.png skimage-astronaut.png
)
debs=(mate-backgrounds lomiri-wallpapers-16.04 lomiri-wallpapers-20.04 plasma-workspace-wallpapers palapeli-data opencv-doc libjxl-testdata)

side_of() { local v; for v in "${validation[@]}"; do [ "$v" = "$1" ] && { echo validation; return; }; done; echo train; }
complete() {
  [ -f "$target/LICENSES.md" ] || return 1
  local e; for e in "${photos[@]}"; do [ -f "$target/$(side_of "${e%%|*}")/${e%%|*}" ] || return 1; done
}
if complete; then exit 0; fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -rf "$target/train" "$target/validation" "$target/LICENSES.md"
mkdir -p "$target/train" "$target/validation"

download() { (cd "$tmp" && apt-get download "${debs[@]}" >/dev/null 2>&1); }
if ! download; then  # a fresh machine may have no package lists yet
  sudo=$([ "$(id -u)" = 0 ] || echo sudo)
  $sudo apt-get update -qq >/dev/null 2>&1 || true
  download || { echo "could not download the Debian packages (apt-get download ${debs[*]})" >&2; exit 1; }
fi
declare -A version
for p in "${debs[@]}"; do
  deb=$(ls "$tmp/${p}"_*.deb)
  dpkg-deb -x "$deb" "$tmp/$p"
  version[$p]="Debian $p $(dpkg-deb -f "$deb" Version)"
done

python=$(command -v python3 || command -v python)
for spec in "scikit-image==$skimage_version" "scikit-learn==$sklearn_version" "matplotlib==$matplotlib_version"; do
  "$python" -m pip download --quiet --no-deps --only-binary=:all: "$spec" -d "$tmp/wheels" \
    || { echo "could not download the $spec wheel from PyPI" >&2; exit 1; }
done
(cd "$tmp/wheels" && for w in *.whl; do
   unzip -q -o "$w" 'skimage/data/*' 'sklearn/datasets/images/*' 'matplotlib/mpl-data/sample_data/*' -d "$tmp" 2>/dev/null || true
 done)
for p in scikit-image scikit-learn matplotlib; do mkdir -p "$tmp/$p"; done
version[scikit-image]="scikit-image $skimage_version wheel"
version[scikit-learn]="scikit-learn $sklearn_version wheel"
version[matplotlib]="matplotlib $matplotlib_version wheel"

{
  echo "# Photos for super-resolution training (data/sr-photos)"
  echo
  echo "Installed by \`scripts/fetch-sr-photos.sh\`; not committed. Split by scene: \`train/\` for training,"
  echo "\`validation/\` held out. Files are byte-for-byte copies of the packaged ones. Authors and full"
  echo "licence texts: the package's usr/share/doc/<package>/copyright (Debian), the wallpaper's"
  echo "metadata.json (plasma-workspace-wallpapers), skimage/data/_fetchers.py, sklearn/datasets/images/README.txt."
  echo
  echo "| file | side | source package | path in package | licence |"
  echo "| --- | --- | --- | --- | --- |"
  for e in "${photos[@]}"; do
    IFS='|' read -r name pkg path licence <<<"$e"
    side=$(side_of "$name")
    src="$tmp/$pkg/$path"; [ -e "$tmp/$pkg/$path" ] || src="$tmp/$path"   # wheels unzip at $tmp
    [ -f "$src" ] || { echo "missing in $pkg: $path" >&2; exit 1; }
    cp -L "$src" "$target/$side/$name"
    echo "| $name | $side | ${version[$pkg]} | $path | $licence |"
  done
} > "$tmp/LICENSES.md"
mv "$tmp/LICENSES.md" "$target/LICENSES.md"
echo "photos in $target: $(ls "$target/train" | wc -l) for training, $(ls "$target/validation" | wc -l) held out"
