/// The page `GET /` serves: self-contained (no CDN, no build step). Drop, paste or pick images (or a
/// folder), ×2 or ×4, a progress bar per image, a before/after slider with zoom, downloads; a prompt
/// tab when the server has SD weights. It talks to the job API with the token of the URL's
/// `#token=` when the server needs one.
enum Page {
  static let html = #"""
<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>FMBoost</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px system-ui,sans-serif;margin:0;background:#111;color:#eee}
header{padding:12px 20px;background:#1c1c1c;display:flex;gap:16px;align-items:center}
h1{font-size:18px;margin:0}button,select,input{font:inherit}
nav button{background:none;border:0;color:#aaa;padding:6px 10px;cursor:pointer}nav button.on{color:#fff;border-bottom:2px solid #6cf}
main{padding:20px}#drop{border:2px dashed #555;border-radius:8px;padding:28px;text-align:center;color:#aaa}
#drop.over{border-color:#6cf;color:#fff}.row{display:flex;gap:12px;align-items:center;margin:12px 0;flex-wrap:wrap}
.item{background:#1c1c1c;border-radius:8px;padding:12px;margin:14px 0}.bar{height:6px;background:#333;border-radius:3px}
.bar div{height:100%;width:0;background:#6cf;border-radius:3px;transition:width .2s}
.view{position:relative;overflow:auto;max-height:70vh;margin-top:10px;border:1px solid #333}
.inner{position:relative;width:100%}.inner img{display:block;width:100%;image-rendering:auto}
.inner canvas{position:absolute;left:0;top:0;width:100%;height:100%}
.err{color:#f77}a{color:#6cf}.hidden{display:none}label{color:#aaa}
</style></head><body>
<header><h1>FMBoost</h1><nav><button id="tab-up" class="on">Upscale</button><button id="tab-gen" class="hidden">Text to image</button></nav>
<span id="health" style="margin-left:auto;color:#888"></span></header>
<main>
<section id="up">
  <div id="drop">Drop images here, paste one, or <label><u>pick files</u><input id="files" type="file" accept="image/*" multiple hidden></label>
  or <label><u>a folder</u><input id="folder" type="file" webkitdirectory hidden></label></div>
  <div class="row"><label>Scale <select id="scale"><option value="2">×2</option><option value="4">×4</option></select></label>
  <label>Model <select id="upscaler"></select></label><button id="all" disabled>Download all</button></div>
  <div id="items"></div>
</section>
<section id="gen" class="hidden">
  <div class="row"><input id="prompt" size="60" placeholder="a prompt"><label>Steps <input id="steps" type="number" value="25" min="1" max="150" style="width:5em"></label>
  <label>Seed <input id="seed" type="number" value="-1" style="width:8em"></label><label><input id="boost" type="checkbox" checked> boost ×2</label>
  <button id="go">Generate</button></div><div id="genout"></div>
</section>
</main>
<script>
const token = new URLSearchParams(location.hash.slice(1)).get('token');
const auth = token ? {Authorization: 'Bearer ' + token} : {};
const $ = id => document.getElementById(id);
const results = [];
async function api(path, options = {}) {
  const r = await fetch(path, {...options, headers: {...auth, ...(options.headers || {})}});
  if (!r.ok) { let m = r.statusText; try { m = (await r.json()).error; } catch (e) {} throw new Error(`${r.status}: ${m}`); }
  return r;
}
async function init() {
  const h = await (await api('/health')).json();
  $('health').textContent = `${h.running} running, ${h.waiting} waiting`;
  $('upscaler').innerHTML = h.upscalers.map(n => `<option>${n}</option>`).join('');
  if (h.txt2img) $('tab-gen').classList.remove('hidden');
}
function tab(name) {
  for (const t of ['up', 'gen']) { $(t).classList.toggle('hidden', t !== name); $('tab-' + t).classList.toggle('on', t === name); }
}
$('tab-up').onclick = () => tab('up'); $('tab-gen').onclick = () => tab('gen');
async function events(url, onStatus) {
  const r = await api(url), reader = r.body.getReader(), text = new TextDecoder();
  let buffer = '', last = null;
  for (;;) {
    const {value, done} = await reader.read();
    if (done) return last;
    buffer += text.decode(value, {stream: true});
    let i;
    while ((i = buffer.indexOf('\n\n')) >= 0) {
      const line = buffer.slice(0, i); buffer = buffer.slice(i + 2);
      if (line.startsWith('data: ')) { last = JSON.parse(line.slice(6)); onStatus(last); }
    }
  }
}
function compare(item, original, result) {
  const view = document.createElement('div'), inner = document.createElement('div'), img = new Image(), canvas = document.createElement('canvas');
  view.className = 'view'; inner.className = 'inner'; img.src = result; img.className = 'result';
  const slider = Object.assign(document.createElement('input'), {type: 'range', min: 0, max: 100, value: 50});
  const zoom = Object.assign(document.createElement('input'), {type: 'range', min: 1, max: 8, step: 0.5, value: 1});
  let base = 0;
  img.onload = () => {
    base = Math.min(view.clientWidth || img.naturalWidth, img.naturalWidth); inner.style.width = base + 'px';
    canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
    const g = canvas.getContext('2d'); g.imageSmoothingQuality = 'high';
    const draw = () => { g.clearRect(0, 0, canvas.width, canvas.height); const w = canvas.width * slider.value / 100;
      g.save(); g.beginPath(); g.rect(0, 0, w, canvas.height); g.clip(); g.drawImage(original, 0, 0, canvas.width, canvas.height); g.restore();
      g.fillStyle = '#6cf'; g.fillRect(w - 1, 0, 2, canvas.height); };
    slider.oninput = draw; draw();
  };
  zoom.oninput = () => { inner.style.width = zoom.value * base + 'px'; };
  inner.append(img, canvas); view.append(inner);
  const row = document.createElement('div'); row.className = 'row';
  row.append('browser-scaled original ◀', slider, '▶ FMBoost', ' zoom', zoom);
  item.append(row, view);
}
async function upscale(file) {
  const item = document.createElement('div'); item.className = 'item';
  item.innerHTML = `<div>${file.webkitRelativePath || file.name}</div><div class="bar"><div></div></div><div class="status"></div>`;
  $('items').append(item);
  const bar = item.querySelector('.bar div'), status = item.querySelector('.status');
  try {
    const form = new FormData(); form.append('image', file); form.append('scale', $('scale').value); form.append('upscaler', $('upscaler').value);
    const job = await (await api('/v1/jobs', {method: 'POST', body: form})).json();
    const end = await events(job.events, s => { bar.style.width = (s.progress * 100) + '%'; status.textContent = s.state + (s.eta ? `, ${Math.round(s.eta)} s left` : ''); });
    if (!end || end.state !== 'succeeded') throw new Error(end ? end.error || end.state : 'the connection ended');
    const blob = await (await api(job.result)).blob(), url = URL.createObjectURL(blob);
    const original = new Image(); original.src = URL.createObjectURL(file); await original.decode();
    const name = file.name.replace(/\.[^.]+$/, '') + `_x${$('scale').value}.png`;
    status.innerHTML = `done — <a download="${name}" href="${url}">download</a>`;
    results.push({name, url}); $('all').disabled = false;
    compare(item, original, url);
  } catch (e) { status.innerHTML = `<span class="err">${e.message}</span>`; }
}
async function run(files) { for (const f of files) if (f.type.startsWith('image/')) await upscale(f); }
$('files').onchange = e => run(e.target.files); $('folder').onchange = e => run(e.target.files);
const drop = $('drop');
drop.ondragover = e => { e.preventDefault(); drop.classList.add('over'); };
drop.ondragleave = () => drop.classList.remove('over');
drop.ondrop = e => { e.preventDefault(); drop.classList.remove('over'); run(e.dataTransfer.files); };
document.onpaste = e => run([...e.clipboardData.files]);
$('all').onclick = () => results.forEach(r => Object.assign(document.createElement('a'), {href: r.url, download: r.name}).click());
$('go').onclick = async () => {
  $('genout').textContent = 'generating…';
  try {
    const body = {prompt: $('prompt').value, steps: +$('steps').value, seed: +$('seed').value, enable_hr: $('boost').checked};
    const r = await (await api('/sdapi/v1/txt2img', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)})).json();
    $('genout').innerHTML = r.images.map(b => `<img style="max-width:100%" src="data:image/png;base64,${b}">`).join('');
  } catch (e) { $('genout').innerHTML = `<span class="err">${e.message}</span>`; }
};
init().catch(e => { $('health').textContent = e.message; });
</script></body></html>
"""#
}
