// The phone app: photo -> diagnosis (onnxruntime-web, WASM) -> organic advice (bundle generated from the
// Python advisor) -> a record in the phone's own field log (IndexedDB), exported as a file that
// `leafscout log import FILE` reads. Everything the page shows that a person typed is escaped.
import * as ort from './ort/ort.wasm.min.mjs';
import * as P from './pipeline.js';
import * as DB from './db.js';
import {makeChecker} from './substances.js';

// Models whose weights are stored as int8 (the insect labeler) have DequantizeLinear nodes in front; without
// this they run on every inference (measured in onnxruntime: 6.1 ms instead of 1.9 ms a labeler crop), with it
// they are folded into float32 weights once, at load, with the same outputs.
const SESSION_OPTIONS = {executionProviders: ['wasm'], graphOptimizationLevel: 'all',
                         extra: {session: {disable_quant_qdq: '1'}}};

const PHONE_T = {
  footer: {vi: 'LeafScout trên điện thoại · mô hình {v} · WASM {n} luồng', en: 'LeafScout phone · model {v} · WASM {n} thread(s)'},
  starting: {vi: 'Đang tải mô hình…', en: 'Loading the model…'},
  ready_offline: {vi: 'Sẵn sàng, dùng được khi không có mạng.', en: 'Ready; works with no network.'},
  ready_online: {vi: 'Sẵn sàng (cần mở một lần qua HTTPS hoặc localhost để dùng ngoại tuyến).',
    en: 'Ready (open it once over HTTPS or localhost to use it offline).'},
  ready_not_kept: {vi: 'Sẵn sàng, nhưng chưa lưu được để dùng khi không có mạng (mạng bị ngắt khi tải). Hãy mở lại ứng dụng khi có wifi.',
    en: 'Ready, but not yet kept for use with no network (the download was cut off). Open the app again on Wi-Fi.'},
  load_failed: {vi: 'Không tải được mô hình: {msg}', en: 'The model could not be loaded: {msg}'},
  crop: {vi: 'Cây trồng (để trống: máy tự nhận)', en: 'Crop (empty: the model decides)'},
  any_crop: {vi: '(máy tự nhận)', en: '(model decides)'},
  working: {vi: 'Đang khám lá…', en: 'Checking the leaf…'},
  top_k: {vi: 'Khả năng khác', en: 'Other possibilities'},
  plot_name: {vi: 'Tên lô ruộng (như trong sổ ghi chép)', en: 'Plot name (as in the field log)'},
  observer: {vi: 'Người chụp', en: 'Taken by'},
  saved_phone: {vi: 'Đã lưu trên điện thoại (lô “{plot}”). Xuất sổ để gửi cho cán bộ.',
    en: 'Saved on the phone (plot “{plot}”). Export the log to send it to the officer.'},
  need_plot: {vi: 'Hãy nhập tên lô ruộng.', en: 'Enter the plot name.'},
  already_saved: {vi: 'Ảnh này đã được lưu vào lô “{plot}”; không lưu lần nữa.', en: 'This photo is already saved to plot “{plot}”; not saved again.'},
  save_failed: {vi: 'Không lưu được trên điện thoại ({msg}): bộ nhớ có thể đã đầy. Ảnh này chưa được lưu; xóa bớt ảnh hoặc ứng dụng rồi bấm Lưu lần nữa.',
    en: 'Could not save on the phone ({msg}): its storage may be full. This photo is not saved; free some space and press Save again.'},
  export_failed: {vi: 'Không xuất được sổ ({msg}). Các bản ghi vẫn còn trên điện thoại; hãy thử lại.',
    en: 'Could not export the log ({msg}). The records are still on the phone; try again.'},
  no_leaf_save: {vi: 'Ảnh không thấy lá: không lưu. Hãy chụp lại một chiếc lá.', en: 'No leaf in the photo: not saved. Take a photo of one leaf.'},
  log_title: {vi: 'Sổ ghi chép trên điện thoại', en: 'Field log on this phone'},
  export_btn: {vi: 'Xuất sổ (tệp gửi cho cán bộ)', en: 'Export the log (file for the officer)'},
  export_all_btn: {vi: 'Xuất lại tất cả bản ghi', en: 'Export all records again'},
  // A record is marked exported only once its file has gone: the share sheet sent it (navigator.share resolved),
  // or, for a plain download (the app cannot see where it went), the farmer says it was sent.
  shared: {vi: 'Đã gửi tệp {file} ({n} bản ghi). Cán bộ nhập bằng: leafscout log import {file}',
    en: 'Sent the file {file} ({n} records). The officer imports it with: leafscout log import {file}',
    en_one: 'Sent the file {file} (1 record). The officer imports it with: leafscout log import {file}'},
  share_cancelled: {vi: 'Chưa gửi tệp. {n} bản ghi vẫn “chưa xuất” và sẽ có trong lần xuất sau.',
    en: 'The file was not sent. The {n} records stay “not exported yet” and go in the next export.',
    en_one: 'The file was not sent. The record stays “not exported yet” and goes in the next export.'},
  offer_download: {vi: 'Đã tải tệp {file} ({n} bản ghi) xuống điện thoại (thư mục Tải xuống / Download). Gửi tệp đó cho cán bộ (Zalo, Bluetooth, USB) rồi bấm “Đã gửi tệp”. Trước khi bấm, các bản ghi này vẫn “chưa xuất” và sẽ có trong lần xuất sau.',
    en: 'The file {file} ({n} records) was downloaded to the phone (the Downloads folder). Send it to the officer (Zalo, Bluetooth, USB), then press “File sent”. Until then these records stay “not exported yet” and go in the next export.',
    en_one: 'The file {file} (1 record) was downloaded to the phone (the Downloads folder). Send it to the officer (Zalo, Bluetooth, USB), then press “File sent”. Until then the record stays “not exported yet” and goes in the next export.'},
  offer_share: {vi: 'Tệp {file} ({n} bản ghi) đã sẵn sàng. Bấm “Gửi tệp” rồi chọn Zalo, Bluetooth...',
    en: 'The file {file} ({n} records) is ready. Press “Send the file” and choose Zalo, Bluetooth, ...',
    en_one: 'The file {file} (1 record) is ready. Press “Send the file” and choose Zalo, Bluetooth, ...'},
  offer_done: {vi: 'Đã gửi tệp: đánh dấu “đã xuất”', en: 'File sent: mark as exported'},
  offer_send_share: {vi: 'Gửi tệp', en: 'Send the file'},
  offer_send_download: {vi: 'Tải tệp lần nữa', en: 'Download the file again'},
  offer_drop: {vi: 'Chưa gửi được', en: 'Not sent'},
  marked: {vi: 'Đã đánh dấu {n} bản ghi là đã xuất. Cán bộ nhập tệp bằng: leafscout log import {file}',
    en: 'Marked {n} records as exported. The officer imports the file with: leafscout log import {file}',
    en_one: 'Marked 1 record as exported. The officer imports the file with: leafscout log import {file}'},
  nothing_new: {vi: 'Không có bản ghi mới: mọi bản ghi đã được xuất. Cần gửi lại thì bấm “Xuất lại tất cả bản ghi”.',
    en: 'No new records: every record has been exported. To send them again, press “Export all records again”.'},
  nothing: {vi: 'Chưa có bản ghi nào.', en: 'No records yet.'},
  sent: {vi: 'đã xuất {when}', en: 'exported {when}'},
  pending: {vi: 'chưa xuất', en: 'not exported yet'},
  insects: {vi: 'Côn trùng trong ảnh', en: 'Insects in the photo'},
  insects_none: {vi: 'Không thấy côn trùng gây hại nào trong ảnh.', en: 'No insect pest found in the photo.'},
  insects_unavailable: {vi: 'Chưa kiểm tra được côn trùng vì điện thoại chưa tải phần nhận côn trùng. Khi có mạng, mở ứng dụng và chụp một ảnh lúa để tải về.',
    en: 'Insects not checked: the insect models are not on the phone yet. Open the app with a network and take one rice photo to fetch them.'},
  insects_loading: {vi: 'Đang tải mô hình côn trùng (một lần, cho ảnh lúa)…', en: 'Loading the insect models (once, for rice photos)…'},
  scene_loading: {vi: 'Đang tải mô hình tìm lá và côn trùng (một lần)…', en: 'Loading the leaf and insect finder (once)…'},
  // "Hỏi thuốc": the verdict's words are the Python advisor's (substances.json); these only head it
  ask_title: {vi: 'Hỏi thuốc: có được dùng trong canh tác hữu cơ không?', en: 'Check a product: may it be used on an organic farm?'},
  ask_label: {vi: 'Tên thuốc hoặc hoạt chất (như trên chai, gói)', en: 'Product or substance name (as on the bottle or bag)'},
  ask_btn: {vi: 'Kiểm tra', en: 'Check'},
  ask_banned: {vi: 'Không được phép: mất chứng nhận hữu cơ', en: 'Not allowed: it voids organic certification'},
  ask_clash: {vi: 'Không được pha chung', en: 'Do not mix these'},
  ask_restricted: {vi: 'Được phép có điều kiện', en: 'Allowed with conditions'},
  ask_unverified: {vi: 'Được phép, nhưng hỏi tổ chức chứng nhận trước', en: 'Allowed, but ask your certifier first'},
  ask_allowed: {vi: 'Được phép', en: 'Allowed'},
  ask_unknown: {vi: 'Không có trong dữ liệu: coi như không được phép', en: 'Not in the data: treat it as not allowed'},
  ask_ask: {vi: 'Hỏi cán bộ khuyến nông', en: 'Ask your extension officer'},
  ask_ask_text: {vi: 'Điện thoại không tự trả lời được tên này (một hỗn hợp, hoặc tên có thêm chữ). Hãy chọn một tên trong danh sách gợi ý, hoặc hỏi cán bộ khuyến nông hay tổ chức chứng nhận; trong lúc chờ, coi như không được phép.',
    en: 'The phone cannot answer this name by itself (a mixture, or a name with more words). Pick a name from the suggestions, or ask your extension officer or certifier; until then, treat it as not allowed.'},
  ask_conditions: {vi: 'Điều kiện khi dùng:', en: 'Conditions of use:'},
  ask_failed: {vi: 'Chưa tải được dữ liệu thuốc ({msg}). Mở lại ứng dụng khi có mạng.', en: 'The product data could not be loaded ({msg}). Open the app again with a network.'},
  unconfirmed: {vi: 'Kết quả của máy cần người xác nhận trong sổ ghi chép.', en: 'The model\u2019s answer needs a person to confirm it in the field log.'},
};

const state = {lang: 'vi', meta: null, advice: null, strings: null, session: null, result: null, photo: null,
  threads: 1, ready: null, subs: null, ask: null, pmeta: null, pests: null, offer: null, exporting: false, persistAsked: false,
  pick: 0,        // one more each photo picked and each check started: only the newest one's answer is shown
  checking: 0};   // checks still running (a newer pick does not stop an older one: its answer is dropped)

const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]));
const $ = (id) => document.getElementById(id);

function t(key, fmt = {}) {
  const lang = state.lang;
  const entry = PHONE_T[key] || (state.strings && state.strings.ui[key]);
  let s = entry ? ((fmt.n === 1 && entry[lang + '_one']) || (entry[lang] ?? entry.en)) : key;
  for (const [k, v] of Object.entries(fmt)) s = s.split(`{${k}}`).join(String(v));
  return s;
}

// The lines the app says below a button (saved, exported, ...), kept as [key, values] parts so that a language
// switch says them again in the new language. say(id) clears the line.
const said = {};
function say(id, ...parts) {
  said[id] = parts;
  $(id).textContent = parts.map(([key, fmt]) => t(key, fmt)).join(' ');
}

// ------------------------------------------------------------------------------------------ loading

// A fetch that tries again: while the service worker takes over the page on the first visit, a request can
// fail once; a second try is answered from its cache.
async function fetchRetry(path, tries = 4) {
  for (let i = 1; ; i++) {
    try {
      const r = await fetch(path);
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      return r;
    } catch (e) {
      if (i >= tries) throw new Error(`${path}: ${e.message || e}`);
      await new Promise((ok) => setTimeout(ok, 250 * i));
    }
  }
}

async function getJSON(path) {
  return (await fetchRetry(path)).json();
}

async function load() {
  const [meta, advice, strings] = await Promise.all([getJSON('model/leafscout.json'), getJSON('advice.json'), getJSON('strings.json')]);
  state.meta = meta; state.advice = advice; state.strings = strings;
  // the insect detector's settings (small); its two models are fetched only when a photo needs them
  state.pmeta = meta.pests ? await getJSON('model/' + meta.pests) : null;
  ort.env.wasm.wasmPaths = new URL('./ort/', import.meta.url).href;
  // WASM threads need cross-origin isolation (the server's or the service worker's headers); 2 by default,
  // ?threads=N to try another count
  const wanted = Number(new URLSearchParams(location.search).get('threads')) || 2;
  state.threads = self.crossOriginIsolated ? Math.max(1, Math.min(wanted, navigator.hardwareConcurrency || 1)) : 1;
  ort.env.wasm.numThreads = state.threads;
  ort.env.wasm.wasmBinary = await (await fetchRetry('ort/ort-wasm-simd-threaded.wasm')).arrayBuffer();
  const buf = await (await fetchRetry('model/' + meta.file)).arrayBuffer();
  state.session = await ort.InferenceSession.create(buf, SESSION_OPTIONS);
  return true;
}

// The insect models, fetched (and kept by the service worker) the first time a photo needs them.
function loadPests() {
  if (!state.pests) {
    const pm = state.pmeta, opts = SESSION_OPTIONS;
    const session = async (file) => ort.InferenceSession.create(await (await fetchRetry('model/' + file)).arrayBuffer(), opts);
    state.pests = Promise.all([session(pm.file), pm.labeler ? session(pm.labeler.file) : null])
      .then(([detector, labeler]) => ({detector, labeler}));
    state.pests.catch(() => { state.pests = null; });  // a failed download is tried again on the next photo
  }
  return state.pests;
}

// model.detect.Detector.scene on a decoded photo: one detector pass -> {leaves: [{score, box}], pests(), photo,
// scale}. Boxes are in the pixels of ow x oh (the photo before a reduced decode) or of the image itself; `photo`
// and `scale` (decoded pixels per original pixel) are what Scene.leaf_crop cuts the leaves from. The insects are
// named (labeler) on the first call of pests(): only a photo whose insects count pays for the labeler.
async function detectScene(img, ow = null, oh = null) {
  const pm = state.pmeta, {detector, labeler} = await loadPests();
  const {image, lb} = P.letterbox(img, pm.input_size, pm.pad_value);
  const x = P.normalize(image, {mean: pm.mean, std: pm.std});
  const out = await detector.run({[detector.inputNames[0]]: new ort.Tensor('float32', x, [1, 3, pm.input_size, pm.input_size])});
  const [scores, boxes] = [out[detector.outputNames[0]], out[detector.outputNames[1]]];
  const nA = scores.dims[1], nC = scores.dims[2];  // nC: every class the network has, a scene detector's leaf too
  const found = P.decodeLeaves(scores.data, boxes.data, nA, nC, pm);  // [] for an insect-only detector
  const leaves = P.boxesToOriginal(found.map((d) => d.box), lb, ow, oh).map((box, i) => ({score: found[i].score, box}));
  // decodeDetections reads only the insects' columns (pm.labels): a leaf box is never counted, drawn or labelled
  const dets = P.decodeDetections(scores.data, boxes.data, nA, nC, pm);
  let named = null;
  const pests = () => (named = named || namePests(img, dets, lb, labeler, ow, oh));
  return {leaves, pests, photo: img, scale: ow ? img.w / ow : 1};
}

// Detector._pests after postprocess: the labeler names each box (its `no insect` class drops it), then the boxes
// go to the pixels of ow x oh -> [{label, score, box}]
async function namePests(img, dets, lb, labeler, ow, oh) {
  const pm = state.pmeta;
  let b = P.boxesToOriginal(dets.map((d) => d.box), lb), s = dets.map((d) => d.score), c = dets.map((d) => d.cls);
  if (labeler && b.length) {
    const L = pm.labeler, n = L.input_size * L.input_size * 3, named = [];
    for (let i = 0; i < b.length; i += L.batch) {
      const part = b.slice(i, i + L.batch), batch = new Float32Array(part.length * n);
      part.forEach((box, j) => batch.set(P.normalize(P.cropBox(img, box, L.input_size, L.context), L), j * n));
      const lo = (await labeler.run({image: new ort.Tensor('float32', batch, [part.length, 3, L.input_size, L.input_size])}, ['logits'])).logits;
      const k = lo.dims[1];
      for (let j = 0; j < part.length; j++) {
        let best = 0;
        for (let q = 1; q < k; q++) if (lo.data[j * k + q] > lo.data[j * k + best]) best = q;
        named.push(best);
      }
    }
    const insect = named.map((ci) => ci < pm.labels.length);  // the labeler's `no insect` class drops the box
    b = b.filter((_, i) => insect[i]); s = s.filter((_, i) => insect[i]); c = named.filter((_, i) => insect[i]);
  }
  b = P.boxesToOriginal(b, {width: lb.width, height: lb.height, size: lb.size, scale: 1, pad_x: 0, pad_y: 0}, ow, oh);
  return b.map((box, i) => ({label: pm.labels[c[i]], score: s[i], box}));
}

// model.detect.Detector.detect on a decoded photo: [{label, score, box}] in the pixels of ow x oh (the photo
// before a reduced decode) or of the image itself
async function detectPests(img, ow = null, oh = null) {
  return (await detectScene(img, ow, oh)).pests();
}

// Says on the card that the detector's models are being fetched (once; afterwards they load from the cache).
// Only over the "checking" card: never over the answer of a newer photo while an older check still runs.
function showModelsLoading() {
  if (!state.pestsReady && typeof document !== 'undefined' && $('card') && $('card').querySelector('.working')) {
    const key = P.hasLeaves(state.pmeta) ? 'scene_loading' : 'insects_loading';
    $('card').innerHTML = workingCard(key);
  }
}

const workingCard = (key = 'working') => `<div class="card working"><p>${esc(t(key))}</p></div>`;

// DiagnosisService._wrap on the phone: a scene detector's pass only where it can change the answer (a field
// photo, framing "whole", whose leaves vote; or a photo where insects may be), the leaves' vote, then the insects
// (from the same pass). An insect-only detector changes nothing here: addPests runs it as before. Any failure
// of the leaf step leaves the whole photo's answer, as in Python.
async function addSceneAndPests(r, crop, source) {
  let scene = null;
  if (P.hasLeaves(state.pmeta) && r.status !== 'error'
      && (r.framing === 'whole' || P.pestsMayBeThere(state.pmeta, state.meta, r, crop || null))) {
    const t0 = performance.now();
    showModelsLoading();
    try {
      const [img, ow, oh] = await source();
      scene = await detectScene(img, ow, oh);
      state.pestsReady = true;
    } catch (e) {  // offline before the detector came, or it could not read the photo: the classifier's answer stands
      console.error(e);
    }
    // as DiagnosisService._wrap: a photo with no plant stays so, whatever the detector boxed as a leaf
    if (scene && scene.leaves.length && r.framing === 'whole' && r.status !== 'not_a_leaf') {
      try {
        r = await answerFromLeaves(r, scene);
      } catch (e) {
        console.error(e);
      }
    }
    r.timing.scene = performance.now() - t0;
  }
  return addPests(r, crop, source, scene);
}

// The service's vote on a field photo: up to `votes` leaves whose crop is big enough, with the whole photo
// (Predictor.with_leaves, with its default top_k of 3, as the service calls it whatever the photo's own top_k)
async function answerFromLeaves(r, scene) {
  const voters = P.leafVoters(scene, state.pmeta.leaves);
  if (!voters.length) return r;
  return P.withLeaves(state.meta, r, voters.map((v) => v.leaf), voters.map((v) => v.crop), infer);
}

// the service's insect step on a diagnosed photo: the gate, then the detector on `source()`'s image (or the
// insects of the scene pass that already ran on it)
async function addPests(r, crop, source, scene = null) {
  if (!state.pmeta) return r;
  if (!P.pestsMayBeThere(state.pmeta, state.meta, r, crop || null)) {
    Object.assign(r, {pests: [], pest_counts: {}, pest_actions: []});  // nothing to look for in this photo
    return r;
  }
  const t0 = performance.now();
  showModelsLoading();
  try {
    if (scene) {
      r.pests = await scene.pests();
    } else {
      const [img, ow, oh] = await source();
      r.pests = await detectPests(img, ow, oh);
    }
  } catch (e) {  // like the service: the insect step failing (offline before its models came) keeps the leaf answer
    console.error(e);
    Object.assign(r, {pests: null, pest_counts: null, pest_actions: null, pest_error: String(e && e.message || e)});
    return r;
  }
  state.pestsReady = true;
  r.pest_counts = P.pestCounts(r.pests);
  r.pest_actions = P.pestActions(state.pmeta, r.pest_counts);
  r.timing.pests = performance.now() - t0;
  return r;
}

// ------------------------------------------------------------------------------------------ the API (also what tests call)

// the classifier on `n` prepared views (float32 [n, 3, S, S]) -> logits [n x C]
async function infer(tensor, n = 1) {
  const size = state.meta.preprocess.input_size;
  const out = await state.session.run({image: new ort.Tensor('float32', tensor, [n, 3, size, size])}, ['logits']);
  return out.logits.data;
}

// rgb image -> the same dict as Predictor.predict(...).to_dict() for the fields the phone uses, with the
// insects (DiagnosisService: pests, pest_counts, pest_actions) where the detector looked
async function diagnoseImage(img, crop = null, topK = 3) {
  const r = await addSceneAndPests(await classify(img, crop, topK), crop, async () => [img, null, null]);
  r.photo_size = [img.w, img.h];  // the pixels every box is in
  return r;
}

async function classify(img, crop = null, topK = 3) {
  const t0 = performance.now();
  const prep = P.prepare(img, state.meta);
  const t1 = performance.now();
  const logits = await infer(prep.tensor);
  const t2 = performance.now();
  const d = P.decide(state.meta, logits, topK, prep.plant, crop || null);
  return {...d, crop: crop || null, logits: Array.from(logits), framing: prep.located.framing, leaf_box: prep.located.box,
    plant_share: prep.plant, model_version: state.meta.version, timing: {preprocess: t1 - t0, infer: t2 - t1}};
}

async function diagnoseBytes(bytes, crop = null, name = 'the image', scenePass = true) {
  try {
    const t0 = performance.now();
    // each model gets the photo as model.imageio.read_image decodes it for that model: a big JPEG at 1/2..1/8
    // size (P.readImageAt: never the whole 50 MP photo in the page), the same pixels as Python
    const side = state.meta.preprocess.resize_size, info = P.checkBytes(bytes, name, side), fc = P.reduction(info, side);
    const photo = await P.readImageAt(bytes, info, fc, name);
    const t1 = performance.now();
    const whole = await classify(photo.image, crop);
    const r = !scenePass ? whole : await addSceneAndPests(whole, crop, async () => {
      // what Detector.load decodes: reduced as long as the shorter side stays >= the detector's input size
      const f = P.reduction(info, state.pmeta.input_size);
      const p = f === fc ? photo : await P.readImageAt(bytes, info, f, name);
      return [p.image, f > 1 ? p.ow : null, f > 1 ? p.oh : null];
    });
    r.photo_size = [photo.ow, photo.oh];  // the photo as shown (orientation applied): the pixels every box is in
    r.decoded = {size: [photo.image.w, photo.image.h], via: photo.via};  // what the classifier's decode held
    r.timing.decode = t1 - t0;
    r.timing.total = performance.now() - t0;
    return r;
  } catch (e) {
    if (e instanceof P.ImageGateError) return {status: 'error', error: e.message, error_code: e.code, label: null};
    throw e;
  }
}

// The whole photo's answer alone, as Predictor.predict gives it (no scene pass, no leaves, no insects): what the
// parity tests compare the ported classifier pipeline with, whatever detector the build ships.
async function classifyBytes(bytes, crop = null, name = 'the image') {
  return diagnoseBytes(bytes, crop, name, false);
}

async function classifyImage(img, crop = null, topK = 3) {
  const r = await classify(img, crop, topK);
  r.photo_size = [img.w, img.h];
  return r;
}

// exactly `leafscout advise LABEL --status S --organic-status O [--days-to-harvest D] --lang L --format markdown`;
// an ok answer below the bundle's check_first_below (the service's CHECK_FIRST_BELOW, e.g. 44%) gets the
// "not sure: check the signs first" advice a diagnosis gets there (webapp/phone.py advice_text with confidence)
function adviceText(label, status = 'ok', organic = 'certified', days = null, lang = 'vi', confidence = null) {
  const b = state.advice, entry = b.texts[lang] && b.texts[lang][label];
  if (!entry || !entry[status]) return null;
  const check = status === 'ok' && typeof confidence === 'number' && confidence < b.check_first_below && entry.check;
  let doc = entry[status];
  if (status === 'ok') {
    const list = (check ? entry.check : entry.ok)[organic];
    if (!list) return null;
    doc = list[days === null || days === undefined || days === '' ? 0 : 1 + Math.min(Number(days), b.horizon_days)];
  }
  const lines = b.docs[doc].map((i) => b.lines[i]);
  if (!check) return lines.join('\n');
  // the message was written at check_pct: it says this answer's own percentage (half up, as the advisor)
  const pct = `${Math.floor(100 * confidence + 0.5)}%`, says = new Set(b.check_lines[lang]);
  return lines.map((ln) => (says.has(ln) ? ln.replace(b.check_pct, pct) : ln)).join('\n');
}

// ------------------------------------------------------------------------------------------ rendering

function inline(s) {  // escaped text with **bold** and *italic*
  return esc(s).replace(/\*\*(.+?)\*\*/g, '<strong>$1</strong>').replace(/\*(.+?)\*/g, '<em>$1</em>');
}

function markdownToHtml(md) {  // the subset render.py writes: headings, lists, numbered steps, paragraphs
  const out = [];
  let list = 0;
  const close = (to) => { while (list > to) { out.push('</ul>'); list--; } };
  for (const line of md.split('\n')) {
    const m = line.match(/^( *)- (.*)$/);
    if (m) {
      const depth = Math.floor(m[1].length / 2) + 1;
      while (list < depth) { out.push('<ul>'); list++; }
      close(depth);
      out.push(`<li>${inline(m[2])}</li>`);
      continue;
    }
    close(0);
    if (line.startsWith('### ')) out.push(`<h5>${inline(line.slice(4))}</h5>`);
    else if (line.startsWith('## ')) out.push(`<h4>${inline(line.slice(3))}</h4>`);
    else if (line.startsWith('# ')) out.push(`<h3>${inline(line.slice(2))}</h3>`);
    else if (line.trim()) out.push(`<p>${inline(line)}</p>`);
  }
  close(0);
  return out.join('\n');
}

function cropName(crop) {
  const key = Object.keys(state.strings.names).find((l) => l.split('.')[0] === crop);
  return key ? state.strings.names[key][state.lang].crop : crop;
}

function labelName(label) {
  const n = state.strings.names[label];
  if (!n) return label;
  const {crop, name} = n[state.lang];  // "Lúa: không phải bệnh nào ..." already names its crop
  return name.startsWith(`${crop}:`) ? name : `${crop}: ${name}`;
}

function renderResult() {
  const r = state.result;
  renderBoxes(r);
  if (!r) {  // no answer yet: "checking" while the photo on screen is checked (a language switch re-says it)
    $('card').innerHTML = state.photo && state.checking ? workingCard() : '';
    $('advice').innerHTML = ''; $('advice').dataset.markdown = ''; $('save').hidden = true;
    return;
  }
  if (r.status === 'error') {
    const msg = (state.strings.errors[r.error_code] || state.strings.errors.other || {})[state.lang] || r.error || '';
    // as webapp/handlers.py render_card: the reason as a sentence, then what to do (take or pick the photo again)
    $('card').innerHTML = `<div class="card error" role="alert" data-error="${esc(r.error_code || '')}"><div class="card-title">${esc(t('status_error'))}</div>` +
      `<p>${esc(msg.charAt(0).toUpperCase() + msg.slice(1))}.</p><p><strong>${esc(t('retake_title'))}:</strong> ${esc(t('retake_tips'))}</p></div>`;
    $('advice').innerHTML = ''; $('advice').dataset.markdown = ''; $('save').hidden = true;
    return;
  }
  // no guess where the model's own answer is "no leaf" on a photo with plant colour (webapp/handlers.py render_card)
  const noGuess = r.status === 'not_a_leaf' || r.reason_code === P.NO_LEAF_SEEN;
  if (noGuess) { renderRetake(r); return; }
  const days = $('days').value === '' ? null : Math.max(0, Math.floor(Number($('days').value)));
  if (r.reason_code === P.CROP_MISMATCH) { renderCropMismatch(r, days); return; }
  const md = adviceText(r.label, r.status, $('organic').value, Number.isFinite(days) ? days : null, state.lang, r.confidence);
  // an ok answer more likely wrong than right (below the service's CHECK_FIRST_BELOW): a question on the card, with
  // the advice's own "not sure (50%): check first" line, as webapp/handlers.py render_card says it
  const check = r.status === 'ok' && md ? checkLine(md, r.confidence) : null;
  // "rice, a problem LeafScout cannot name" at 100%: the figure is the crop's, not a diagnosis to trust; no number
  const conf = r.confidence === null || r.confidence === undefined || r.reason_code === 'unnamed_problem' ? ''
    : `${Math.round(r.confidence * 100)}%`;
  const others = r.top_k.slice(1).map(([l, p]) => `${esc(labelName(l))} ${Math.round(p * 100)}%`).join('; ');
  const title = check ? `${labelName(r.label)}?` : `${t('status_' + r.status)}: ${labelName(r.label)}`;
  $('card').innerHTML = `<div class="card ${esc(r.status)}${check ? ' check' : ''}" data-status="${esc(r.status)}" data-label="${esc(r.label)}" data-reason="${esc(r.reason_code || '')}"${check ? ' data-check="first"' : ''}>
    <div class="card-title">${esc(title)}</div>
    ${check ? `<p class="warn">${esc(check)}</p>` : ''}
    ${conf ? `<p>${esc(t('confidence'))}: ${esc(conf)}</p>` : ''}
    ${others ? `<p>${esc(t('top_k'))}: ${others}</p>` : ''}
    ${r.crop_note ? `<p class="warn">${esc(t('crop_note_other', {crop: cropName(r.crop || '')}))}</p>` : ''}
    <p class="note">${esc(t('confidence_note'))}</p></div>` + renderLeaves(r);
  $('advice').dataset.markdown = md || '';
  $('advice').innerHTML = (md ? markdownToHtml(md) : '') + renderPests(r, days);
  $('save').hidden = false;
}

// The advice's "LeafScout is not sure of this answer (50%) ..." line (adviceText put the answer's own percentage
// in it), or null where the advice has none (a sure answer).
function checkLine(md, confidence) {
  const b = state.advice;
  if (typeof confidence !== 'number' || !b.check_lines || !b.check_lines[state.lang]) return null;
  const pct = `${Math.floor(100 * confidence + 0.5)}%`;
  const says = new Set(b.check_lines[state.lang].map((ln) => ln.replace(b.check_pct, pct)));
  return md.split('\n').find((ln) => says.has(ln)) || null;
}

// A crop chosen that the photo clearly does not show (runtime.py CROP_MISMATCH): the chosen crop's nearest label
// as a question and "do not act on it, check the crop" (webapp/handlers.py render_card), no figure (its 100% is
// within the wrong crop), no advice; insects seen still show.
function renderCropMismatch(r, days) {
  $('card').innerHTML = `<div class="card uncertain" data-status="${esc(r.status)}" data-label="${esc(r.label)}" data-reason="${esc(r.reason_code)}">
    <div class="card-title">${esc(t('status_' + r.status))}</div><p>${esc(labelName(r.label))}?</p>
    <p class="warn">${esc(t('crop_mismatch_why', {crop: cropName(r.crop || '')}))}</p></div>` + renderLeaves(r);
  $('advice').dataset.markdown = '';
  $('advice').innerHTML = renderPests(r, days);
  $('save').hidden = false;
}

// A photo with no leaf to answer from (no plant at all, or plant colour but no single leaf): a plain "no leaf
// found: take it again" card, as webapp/handlers.py render_card says it, and no advice (the knowledge base's
// no-leaf entry would read as a problem: crop "no crop", problem "photo with no leaf"); insects seen still show.
function renderRetake(r) {
  const why = r.status === 'not_a_leaf' ? t('not_a_leaf_why') : t('no_leaf_seen_why');
  $('card').innerHTML = `<div class="card retake ${esc(r.status)}" data-status="${esc(r.status)}" data-label="${esc(r.label)}" data-reason="${esc(r.reason_code || '')}">
    <div class="card-title">${esc(t('status_not_a_leaf'))}</div><p>${esc(why)}</p>
    <p><strong>${esc(t('retake_title'))}:</strong> ${esc(t('retake_tips'))}</p></div>` + renderLeaves(r);
  const days = $('days').value === '' ? null : Math.max(0, Math.floor(Number($('days').value)));
  $('advice').dataset.markdown = '';
  $('advice').innerHTML = renderPests(r, days);
  $('save').hidden = false;  // a tap on Save says why it is not saved
}

// The leaves a field photo was answered from (webapp/leaves.py leaves_html): "L1", "L2" as drawn on the photo,
// each leaf's own answer, so a wrong answer can be traced to a leaf. '' when no leaf voted.
function renderLeaves(r) {
  if (!r.leaves || !r.leaves.length) return '';
  const words = state.strings.leaves, lang = state.lang;
  const rows = r.leaves.map((lf, i) => {
    const name = lf.status === 'not_a_leaf' ? t('status_not_a_leaf') : lf.label ? labelName(lf.label) : '-';
    const pct = typeof lf.confidence === 'number' ? ` · ${Math.round(lf.confidence * 100)}%` : '';
    return `<li data-leaf="${i + 1}" data-label="${esc(lf.label || '')}"><b>L${i + 1}</b> ${esc(name)}${esc(pct)}</li>`;
  });
  return `<div id="leaves" class="card card-leaves" data-leaves="${r.leaves.length}"><div class="card-title">` +
    `${esc(words.title[lang])}</div><p>${esc(words.lead[lang])}</p><ul>${rows.join('')}</ul></div>`;
}

// webapp/pests.py COLOURS: one colour per insect label, in order of first appearance
const PEST_COLOURS = ['rgb(255,64,64)', 'rgb(255,200,0)', 'rgb(0,170,255)', 'rgb(255,0,200)', 'rgb(255,128,0)', 'rgb(140,90,255)'];

function pestColours(pests) {
  const out = new Map();
  for (const p of pests || []) if (!out.has(p.label)) out.set(p.label, PEST_COLOURS[out.size % PEST_COLOURS.length]);
  return out;
}

// The boxes over the photo preview (an SVG in the photo's own pixels, laid over the <img>): the leaves looked at
// in white with "L1", "L2" (under), the insects in their label's colour (over), as webapp/pests.py draws them.
// Lines keep 2 screen pixels whatever the photo's size (non-scaling strokes); the tags scale with the photo.
function renderBoxes(r) {
  const svg = $('boxes');
  if (!svg) return;
  const leaves = (r && r.leaves) || [], pests = (r && r.pests) || [];
  if (!r || !Array.isArray(r.photo_size) || (!leaves.length && !pests.length)) {
    svg.innerHTML = ''; svg.toggleAttribute('hidden', true);  // an SVG element has no .hidden property
    return;
  }
  const [w, h] = r.photo_size, fs = Math.max(8, Math.round(Math.max(w, h) / 12));
  const num = (v) => (Number.isFinite(+v) ? Math.round(+v * 10) / 10 : 0);
  const rect = (b, stroke, width) => `<rect x="${num(b[0])}" y="${num(b[1])}" width="${num(Math.max(0, b[2] - b[0]))}" ` +
    `height="${num(Math.max(0, b[3] - b[1]))}" fill="none" stroke="${stroke}" stroke-width="${width}" vector-effect="non-scaling-stroke"/>`;
  const parts = [];
  leaves.forEach((lf, i) => {
    const b = lf.box, tag = `L${i + 1}`, tw = Math.round(fs * (0.25 + 0.62 * tag.length));
    parts.push(`<g class="leaf-box" data-leaf="${i + 1}">${rect(b, '#000', 4)}${rect(b, '#fff', 2)}` +
      `<rect x="${num(b[0])}" y="${num(b[1])}" width="${tw}" height="${Math.round(fs * 1.15)}" fill="#fff"/>` +
      `<text x="${num(b[0] + fs * 0.12)}" y="${num(b[1] + fs * 0.95)}" font-size="${fs}" font-weight="700" fill="#000">${tag}</text></g>`);
  });
  const colours = pestColours(pests);
  pests.forEach((p) => parts.push(`<g class="pest-box">${rect(p.box, colours.get(p.label), 2)}</g>`));
  svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
  svg.innerHTML = parts.join('');
  svg.toggleAttribute('hidden', false);
}

function renderPests(r, days) {  // counts, the action threshold's verdict and each insect's advice
  if (r.pest_error) return `<section id="insects"><p class="note">${esc(t('insects_unavailable'))}</p></section>`;
  if (!r.pests || (!r.pests.length && (r.status === 'not_a_leaf' || r.reason_code === P.NO_LEAF_SEEN))) return '';
  const parts = [`<section id="insects" data-count="${r.pests.length}"><h3>${esc(t('insects'))}</h3>`];
  if (!r.pests.length) parts.push(`<p>${esc(t('insects_none'))}</p>`);
  const colours = pestColours(r.pests);  // the colour of its boxes on the photo
  for (const a of r.pest_actions) {
    const swatch = colours.has(a.label) ? `<span class="swatch" style="border-color:${colours.get(a.label)}"></span>` : '';
    parts.push(`<div class="pest" data-label="${esc(a.label)}" data-count="${a.count}"><h4>${swatch}${esc(a.name[state.lang] || a.label)}: ${a.count}</h4>` +
      `<p class="${a.act ? 'warn' : ''}">${esc(a.text[state.lang])}</p>`);
    const md = adviceText(a.label, 'ok', $('organic').value, Number.isFinite(days) ? days : null, state.lang);
    if (md) parts.push(`<details><summary>${esc(a.name[state.lang] || a.label)}</summary>${markdownToHtml(md)}</details>`);
    parts.push('</div>');
  }
  parts.push('</section>');
  return parts.join('\n');
}

function renderStatic() {
  document.documentElement.lang = state.lang;
  if (!state.strings) {  // not loaded yet: index.html's texts stay (the app's words come with strings.json)
    document.querySelectorAll('#lang button').forEach((b) => b.classList.toggle('on', b.dataset.lang === state.lang));
    return;
  }
  document.querySelectorAll('[data-t]').forEach((el) => { el.textContent = t(el.dataset.t); });
  document.querySelectorAll('#lang button').forEach((b) => b.classList.toggle('on', b.dataset.lang === state.lang));
  if (state.meta) {
    const crop = $('crop').value;
    $('crop').innerHTML = `<option value="">${esc(t('any_crop'))}</option>` +
      state.meta.crops.map((c) => `<option value="${esc(c)}">${esc(cropName(c))}</option>`).join('');
    $('crop').value = crop;
    const org = $('organic').value || 'certified';
    $('organic').innerHTML = state.advice.organic_statuses.map((o) => `<option value="${esc(o)}">${esc(state.strings.organic[o][state.lang])}</option>`).join('');
    $('organic').value = org;
    $('version').textContent = t('footer', {v: state.meta.version, n: state.threads});
  }
  for (const [id, parts] of Object.entries(said)) say(id, ...parts);
  renderAsk();
  renderResult();
  renderLog();
}

async function renderLog() {
  if (!state.meta) return;
  const recs = await DB.all();
  $('export-all-btn').hidden = !recs.some((r) => r.exported_at);  // a file lost on the way can be made again
  $('records').innerHTML = recs.length ? recs.map((r) => `<li data-id="${esc(r.id)}">
    <strong>${esc(r.plot)}</strong> · ${esc(DB.localTime(r.observed_at))} · ${esc(labelName(r.label))}
    (${esc(t('status_' + r.status))}) · <span class="${r.exported_at ? 'sent' : 'pending'}">${esc(r.exported_at ? t('sent', {when: DB.localTime(r.exported_at)}) : t('pending'))}</span></li>`).join('')
    : `<li>${esc(t('nothing'))}</li>`;
}

// ------------------------------------------------------------------------------------------ "Hỏi thuốc"

// substances.json: the advisor's answer for every name the knowledge base knows (phone/src/substances.js says
// what the phone answers from it and when it says "hỏi cán bộ" instead). Loaded apart from the model: the box
// works while the model is still loading, and a failure here leaves the diagnosis alone.
function substances() {
  if (!state.subs) {
    state.subs = getJSON('substances.json').then(makeChecker);
    state.subs.catch(() => { state.subs = null; });
  }
  return state.subs;
}

async function checkSubstance(name) {
  return (await substances()).check(name);
}

function renderAsk() {
  const box = $('ask-verdict'), a = state.ask;
  if (!a) { box.innerHTML = ''; return; }
  if (a.error) { box.innerHTML = `<div class="verdict ask"><p>${esc(t('ask_failed', {msg: a.error}))}</p></div>`; return; }
  const r = a.result, lang = state.lang, conds = r.conditions[lang];
  box.innerHTML = `<div class="verdict ${esc(r.kind)}" data-kind="${esc(r.kind)}" data-how="${esc(r.how)}">
    <p class="verdict-head">${esc(t('ask_' + r.kind))}</p>
    <p class="verdict-name"><strong>${esc(a.query)}</strong></p>
    <p class="verdict-reason">${esc(r.reason ? r.reason[lang] : t('ask_ask_text'))}</p>
    ${conds.length ? `<p class="verdict-cond-title">${esc(t('ask_conditions'))}</p>
    <ul class="conditions">${conds.map((c) => `<li>${esc(c)}</li>`).join('')}</ul>` : ''}</div>`;
}

async function onAsk(name = $('ask-name').value) {
  const query = String(name).trim();
  $('ask-suggest').innerHTML = '';
  if (!query) { state.ask = null; renderAsk(); return; }
  try {
    const result = await checkSubstance(query);
    state.ask = result ? {query, result} : null;
  } catch (e) {
    state.ask = {query, error: e.message || String(e)};
  }
  renderAsk();
}

async function onAskTyping() {
  const text = $('ask-name').value;
  state.ask = null;  // the verdict shown was for another name
  renderAsk();
  let names = [];
  try { names = (await substances()).suggest(text); } catch (e) { /* said when the farmer presses Check */ }
  if ($('ask-name').value !== text) return;  // typed on meanwhile
  $('ask-suggest').innerHTML = names.map((n) => `<li><button type="button" role="option">${esc(n)}</button></li>`).join('');
  $('ask-suggest').querySelectorAll('button').forEach((b, i) => b.addEventListener('click', () => {
    $('ask-name').value = names[i];
    onAsk(names[i]);
  }));
}

// ------------------------------------------------------------------------------------------ events

// The last answer goes at once (its card, advice, boxes, Save and its "saved" line), so nothing of it can be
// read or saved as the new photo's: Save comes back with the new answer.
function clearAnswer() {
  state.result = null;
  say('save-msg');
  renderResult();
}

// What the preview shows: a big JPEG drawn from a reduced decode (a few MB; P.readImageScaled), since an <img> of a
// 50 MP file makes the browser keep the whole photo decoded (~200 MB) while it is on screen, on top of what the
// check needs. Reduced as long as the shorter side stays >= PREVIEW_SIDE px (the preview is at most 180 CSS px
// high: 720 device px on a 4x screen), so it looks the same. The file itself where no reduced decode is to be had
// (a small photo, not a JPEG, a browser without WebCodecs' ImageDecoder) or the gate refuses it (the check says
// why). The record keeps the original file either way.
const PREVIEW_SIDE = 720;

async function previewBlob(bytes, type) {
  try {
    const info = P.checkBytes(bytes, 'the photo', PREVIEW_SIDE), f = P.reduction(info, PREVIEW_SIDE);
    const small = f > 1 ? await P.readImageScaled(bytes, info, f) : null;
    const shown = small && await jpegOf(small.image);
    if (shown) return shown;
  } catch (e) {
    if (!(e instanceof P.ImageGateError)) console.error(e);
  }
  return new Blob([bytes], {type});
}

async function jpegOf(img) {
  const rgba = new Uint8ClampedArray(img.w * img.h * 4);
  for (let i = 0, j = 0; j < img.data.length; i += 4, j += 3) {
    rgba[i] = img.data[j]; rgba[i + 1] = img.data[j + 1]; rgba[i + 2] = img.data[j + 2]; rgba[i + 3] = 255;
  }
  const canvas = typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(img.w, img.h)
    : Object.assign(document.createElement('canvas'), {width: img.w, height: img.h});
  canvas.getContext('2d').putImageData(new ImageData(rgba, img.w, img.h), 0, 0);
  if (canvas.convertToBlob) return canvas.convertToBlob({type: 'image/jpeg', quality: 0.9});
  return new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.9));
}

async function onPhoto(file) {
  if (!file) return;
  const pick = ++state.pick;
  state.checking++;
  clearAnswer();
  let bytes = null, failed = null;
  try {
    if (file.size > P.MAX_BYTES) {  // refused from its size, never read: a video or a huge file fills a phone's memory first
      failed = {error_code: 'too_large', error: `${file.name} is ${Math.round(file.size / 1048576)} MB; a phone photo is under ${P.MAX_BYTES / 1048576} MB`};
    } else {
      bytes = new Uint8Array(await file.arrayBuffer());
    }
  } catch (e) {  // the phone cannot read it (a cloud photo not downloaded, a file deleted meanwhile)
    console.error(e);
    failed = {error_code: 'other', error: String(e && e.message || e)};
  } finally {
    state.checking--;
  }
  if (pick !== state.pick) return;  // another photo was picked meanwhile
  if (failed) {
    state.photo = null;
    if ($('preview').src.startsWith('blob:')) URL.revokeObjectURL($('preview').src);
    $('preview').removeAttribute('src'); $('preview').hidden = true;
    try {
      await state.ready;  // the card's words come with the model
    } catch (e) {
      return;
    }
    if (pick !== state.pick) return;
    state.result = {status: 'error', label: null, ...failed};
    renderResult();
    return;
  }
  state.photo = {bytes, type: file.type || 'image/jpeg', name: file.name || 'photo.jpg', savedTo: new Set()};
  state.checking++;
  let shown;
  try {
    shown = await previewBlob(bytes, state.photo.type);
  } finally {
    state.checking--;
  }
  if (pick !== state.pick) return;
  const url = URL.createObjectURL(shown);
  if ($('preview').src.startsWith('blob:')) URL.revokeObjectURL($('preview').src);
  $('preview').src = url; $('preview').hidden = false;
  await diagnoseCurrent();
}

async function diagnoseCurrent() {  // the photo on screen, for the crop picked now (a new photo, or a new crop)
  if (!state.photo) return;
  const pick = ++state.pick, photo = state.photo;
  state.checking++;
  photo.savedTo = new Set();  // a new answer may be saved (as in the app: a new diagnosis, a new record)
  clearAnswer();
  let result, loaded = true;
  try {
    try {
      await state.ready;  // a photo picked while the model still loads (a slow phone, a slow first visit) waits for it
    } catch (e) {  // the model could not be loaded: the line at the top says why
      loaded = false;
    }
    if (loaded && pick === state.pick) result = await diagnoseBytes(photo.bytes, $('crop').value || null, photo.name);
  } catch (e) {  // never a stack trace on the screen: the code's translated message, the detail in the console
    console.error(e);
    result = {status: 'error', error_code: 'other', error: String(e && e.message || e), label: null};
  } finally {
    state.checking--;
  }
  if (pick !== state.pick) return;  // a newer photo or crop: its own check shows its answer
  if (!loaded) { renderResult(); return; }  // no "checking" left on screen: nothing can check it
  state.result = result;
  renderResult();
}

async function onSave() {
  const r = state.result, plot = $('plot').value.trim();
  if (!r || r.status === 'error') return;
  if (r.status === 'not_a_leaf' || r.reason_code === P.NO_LEAF_SEEN) { say('save-msg', ['no_leaf_save']); return; }
  if (!plot) { say('save-msg', ['need_plot']); return; }
  const photo = state.photo, observer = $('observer').value.trim();
  if (photo.savedTo.has(plot)) { say('save-msg', ['already_saved', {plot}]); return; }
  photo.savedTo.add(plot);  // before the write: a second tap meanwhile does not save it twice
  localStorage.setItem('leafscout.plot', plot);
  localStorage.setItem('leafscout.observer', observer);
  try {
    await DB.add({plot, observer: observer || null, label: r.label, status: r.status, confidence: r.confidence,
      model_version: r.model_version, photo: photo.bytes, photo_type: photo.type, photo_name: photo.name});
  } catch (e) {  // the phone's storage full, or refused: not saved, and saying so; a tap on Save tries again
    console.error(e);
    photo.savedTo.delete(plot);
    if (photo === state.photo) say('save-msg', ['save_failed', {msg: (e && (e.name || e.message)) || e}]);
    return;
  }
  if (photo === state.photo) say('save-msg', ['saved_phone', {plot}], ['unconfirmed']);
  renderLog();
  keepStorage();
}

// Records not exported yet live only in this browser's storage, which a phone short of space may clear whole for
// a site that did not ask to keep it. Asked once, at a save (a tap: Firefox asks the farmer; Chrome answers from
// how the app is used, yes once it is installed). Refused or unsupported: the records are kept as before.
async function keepStorage() {
  if (state.persistAsked || !navigator.storage || !navigator.storage.persist) return;
  state.persistAsked = true;
  try {
    if (!(await navigator.storage.persisted())) await navigator.storage.persist();
  } catch (e) {
    console.error(e);
  }
}

// Export: a file of the records not exported yet (or of every record: "export all again"), offered through the
// phone's share sheet (Zalo, Bluetooth, ...) where the browser has one for files, else downloaded. Records are
// marked exported only once the file has gone: navigator.share resolved, or, after a plain download (the page
// cannot see whether it was saved or sent on), the farmer pressed "File sent". Cancelled, failed or never
// confirmed: they stay "not exported yet" and go in the next export. `state.offer` is the file waiting.
async function onExport(everyRecord = false) {
  if (state.exporting) return;  // a second tap while the file is made
  state.exporting = true;
  say('export-msg');
  showOffer(null);
  try {
    let ex;
    try {
      ex = await DB.exportFile({everyRecord});
    } catch (e) {
      console.error(e);
      say('export-msg', ['export_failed', {msg: (e && (e.name || e.message)) || e}]);
      return;
    }
    if (!ex.count) { say('export-msg', [ex.total ? 'nothing_new' : 'nothing']); return; }
    await sendOffer(ex);
  } finally {
    state.exporting = false;
  }
}

// The file as the share sheet gets it. Android Chrome shares a file only when its name ends in an extension of a
// fixed list AND its type is on a fixed list: images, audio, video, application/pdf and the text types text/plain,
// text/csv, text/comma-separated-values, text/html, text/css (Chromium's
// components/browser_ui/webshare/android/java/src/org/chromium/components/browser_ui/webshare/ShareServiceImpl.java,
// PERMITTED_EXTENSIONS / PERMITTED_MIME_TYPES checked by isDangerousFilename / isDangerousMimeType; the same list
// in third_party/blink/renderer/modules/webshare/FILE_TYPES.md). A ".json" file of type application/json is on
// neither: the farmer only ever got a download where canShare says false, and where canShare does not check the
// list, Android's share service refuses the file itself (ShareServiceImpl.share: PERMISSION_DENIED, which reaches
// the page as NotAllowedError "Permission denied": the "tap again" offer below, forever). So the share sheet
// gets the same JSON, byte for byte, as text/plain named "<name>.json.txt" (JSON is text; the name still says what
// is inside). `leafscout log import FILE` reads the file whatever its name (it parses the content), so the officer
// imports it as it arrives. A download keeps ".json".
const SHARE_TYPE = 'text/plain';
const sharedName = (ex) => `${ex.file}.txt`;

function canShareFile(ex) {
  if (!navigator.share || !navigator.canShare) return null;
  const file = new File([ex.blob], sharedName(ex), {type: SHARE_TYPE});
  try {
    return navigator.canShare({files: [file]}) ? file : null;
  } catch (e) {
    return null;
  }
}

async function sendOffer(ex) {
  const file = canShareFile(ex);
  if (file) {
    try {
      await navigator.share({files: [file], title: file.name});
    } catch (e) {
      console.error(e);
      if (e && e.name === 'NotAllowedError') {  // the tap's permission ran out while a big file was made: tap again
        showOffer(ex, 'share');
        return;
      }
      say('export-msg', ['share_cancelled', {n: ex.count}]);  // cancelled (AbortError) or the share failed
      return;
    }
    await markSent(ex, 'shared', file.name);
    return;
  }
  const a = document.createElement('a');
  a.href = URL.createObjectURL(ex.blob); a.download = ex.file;
  document.body.appendChild(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 60_000);  // the browser has the file by then; a big log's copy goes
  showOffer(ex, 'download');
}

async function markSent(ex, key, file = ex.file) {  // `file`: the name the officer gets (the shared one)
  showOffer(null);
  try {
    await DB.markExported(ex.ids);
  } catch (e) {  // not marked: the records stay in the next export, nothing is lost
    console.error(e);
    say('export-msg', ['export_failed', {msg: (e && (e.name || e.message)) || e}]);
    return;
  }
  say('export-msg', [key, {n: ex.count, file}]);
  renderLog();
}

// The box under Export while a file waits: what to do with it and, after a download, "File sent" to mark it.
function showOffer(ex, how = null) {
  state.offer = ex ? {ex, how} : null;
  $('offer').hidden = !ex;
  if (!ex) { say('offer-msg'); return; }
  say('offer-msg', [how === 'share' ? 'offer_share' : 'offer_download', {n: ex.count, file: how === 'share' ? sharedName(ex) : ex.file}]);
  $('offer-done').hidden = how === 'share';
  $('offer-send').dataset.t = how === 'share' ? 'offer_send_share' : 'offer_send_download';
  $('offer-send').textContent = t($('offer-send').dataset.t);
}

function wire() {
  $('photo').addEventListener('change', (e) => {
    const file = e.target.files && e.target.files[0];
    e.target.value = '';  // the same photo picked again is a new pick
    onPhoto(file);
  });
  $('crop').addEventListener('change', diagnoseCurrent);
  $('save-btn').addEventListener('click', onSave);
  $('export-btn').addEventListener('click', () => onExport(false));
  $('export-all-btn').addEventListener('click', () => onExport(true));
  $('offer-send').addEventListener('click', () => state.offer && sendOffer(state.offer.ex));
  $('offer-done').addEventListener('click', () => state.offer && markSent(state.offer.ex, 'marked'));
  $('offer-drop').addEventListener('click', () => {
    const ex = state.offer && state.offer.ex;
    showOffer(null);
    if (ex) say('export-msg', ['share_cancelled', {n: ex.count}]);
  });
  $('ask-name').addEventListener('input', onAskTyping);
  $('ask-name').addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); onAsk(); } });
  $('ask-btn').addEventListener('click', () => onAsk());
  $('organic').addEventListener('change', renderResult);
  $('days').addEventListener('change', renderResult);
  document.querySelectorAll('#lang button').forEach((b) => b.addEventListener('click', () => {
    state.lang = b.dataset.lang; localStorage.setItem('leafscout.lang', state.lang); renderStatic();
  }));
  // a photo picked before this script ran (it waits for onnxruntime-web's module on a slow first visit)
  const early = $('photo').files && $('photo').files[0];
  if (early) { $('photo').value = ''; onPhoto(early); }
  $('plot').value = localStorage.getItem('leafscout.plot') || '';
  $('observer').value = localStorage.getItem('leafscout.observer') || '';
}

// Whether the service worker keeps the app for offline use: true once one is active (this visit's, or an earlier
// visit's while a new build installs), 'failed' when its install failed (a file did not come: the network dropped
// during the first visit); the next visit with a network tries again.
function keptOffline(reg) {
  if (reg.active) return true;
  const sw = reg.installing || reg.waiting;
  if (!sw) return navigator.serviceWorker.ready.then(() => true);
  return new Promise((resolve) => {
    const check = () => {
      if (sw.state === 'activated') resolve(true);
      else if (sw.state === 'redundant') resolve(reg.active ? true : 'failed');
    };
    sw.addEventListener('statechange', check);
    check();
  });
}

async function main() {
  state.lang = localStorage.getItem('leafscout.lang') === 'en' ? 'en' : 'vi';
  $('offline').textContent = t('starting');  // index.html says it in Vietnamese; this in the language chosen
  let swReady = Promise.resolve(false);
  if ('serviceWorker' in navigator && self.isSecureContext) {
    swReady = navigator.serviceWorker.register('sw.js').then(keptOffline).catch(() => false);
  }
  state.ready = load();
  state.ready.catch(() => {});  // said below; a photo picked meanwhile does not wait for ever
  wire();
  substances().catch(() => {});  // the "Hỏi thuốc" data, while the model loads (said when used, if it failed)
  try {
    await state.ready;
  } catch (e) {
    $('offline').textContent = t('load_failed', {msg: e.message || e});
    throw e;
  }
  renderStatic();
  const offline = await swReady;
  // so a language switch re-says it
  $('offline').dataset.t = offline === true ? 'ready_offline' : offline === 'failed' ? 'ready_not_kept' : 'ready_online';
  $('offline').textContent = t($('offline').dataset.t);
  document.body.dataset.ready = offline === true ? 'offline' : 'online';
  return {offline: offline === true, threads: state.threads, isolated: !!self.crossOriginIsolated};
}

const ready = main();
window.leafscout = {ready, diagnoseBytes, diagnoseImage, classifyBytes, classifyImage, detectPests, detectScene, get pestsMeta() { return state.pmeta; },
  pestsLoaded: () => !!state.pestsReady, checking: () => state.checking, adviceText, decide: (logits, topK, plant, crop) => P.decide(state.meta, logits, topK, plant, crop),
  infer, pipeline: P, db: DB, checkSubstance, suggestSubstances: async (text) => (await substances()).suggest(text), get meta() { return state.meta; }, get result() { return state.result; }, markdownToHtml};
