// LeafScout's photo -> answer pipeline in the browser: a straight port of the Python runtime.
//
//   model/imageio.py     image gate (size limits, formats, EXIF orientation, big-JPEG reduction)
//   model/locate.py      leaf locator (plain background -> crop to the leaf), plant_share
//   model/preprocess.py  squash / shorter-side + centre crop, normalisation
//   model/runtime.py     Predictor.decide (temperature softmax, energy, thresholds, crop rules)
//
// Every number (labels, thresholds, temperature, sizes, locator settings) comes from the model's
// metadata (model/leafscout.json, extracted from the .onnx at build time): nothing is hard-coded here.
// The OpenCV steps are ported with OpenCV's own arithmetic (fixed-point Lab/HSV/gray, INTER_AREA tables,
// reflect-101 borders) so the network sees the same pixels. KEEP decide() IN SYNC with
// Predictor.decide: tests/test_phone_parity.py runs both on the fixtures and fails on any drift.

export const MIN_SIDE = 32;
export const MAX_PIXELS = 120000000;
export const MAX_BYTES = 200 * 1048576;
export const MAX_DECODED_BYTES = 400 * 1048576;

export class ImageGateError extends Error {
  constructor(message, code) { super(message); this.code = code || 'other'; }
}

// Python's round(): halves go to the even neighbour.
export function pyRound(x) {
  const f = Math.floor(x), d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}
// OpenCV's cvRound (round half to even on x86, like rint)
const cvRound = pyRound;
const sat8 = (v) => (v < 0 ? 0 : v > 255 ? 255 : v);

// ------------------------------------------------------------------------------------------ images
// An image is {w, h, data: Uint8Array of w*h*3 RGB}.

export function makeImage(w, h, data) { return {w, h, data: data || new Uint8Array(w * h * 3)}; }

export function cropImage(img, x0, y0, x1, y1) {
  const w = x1 - x0, h = y1 - y0, out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) out.set(img.data.subarray(((y0 + y) * img.w + x0) * 3, ((y0 + y) * img.w + x1) * 3), y * w * 3);
  return makeImage(w, h, out);
}

export function rotateClockwise(img) {  // cv2.ROTATE_90_CLOCKWISE: dst(i, j) = src(rows - 1 - j, i)
  const {w, h, data} = img, out = new Uint8Array(w * h * 3);
  for (let i = 0; i < w; i++) for (let j = 0; j < h; j++) {
    const s = ((h - 1 - j) * w + i) * 3, d = (i * h + j) * 3;
    out[d] = data[s]; out[d + 1] = data[s + 1]; out[d + 2] = data[s + 2];
  }
  return makeImage(h, w, out);
}

// ------------------------------------------------------------------------------------------ resize (cv2.resize)

function areaTab(ssize, dsize, scale) {  // computeResizeAreaTab
  const tab = [];
  for (let dx = 0; dx < dsize; dx++) {
    const fsx1 = dx * scale, fsx2 = fsx1 + scale;
    const cellWidth = Math.min(scale, ssize - fsx1);
    let sx1 = Math.ceil(fsx1), sx2 = Math.floor(fsx2);
    sx2 = Math.min(sx2, ssize - 1);
    sx1 = Math.min(sx1, sx2);
    if (sx1 - fsx1 > 1e-3) tab.push([dx, sx1 - 1, Math.fround((sx1 - fsx1) / cellWidth)]);
    for (let sx = sx1; sx < sx2; sx++) tab.push([dx, sx, Math.fround(1.0 / cellWidth)]);
    if (fsx2 - sx2 > 1e-3) tab.push([dx, sx2, Math.fround(Math.min(Math.min(fsx2 - sx2, 1.0), cellWidth) / cellWidth)]);
  }
  return tab;
}

function resizeAreaGeneric(img, dw, dh) {
  const {w, h, data} = img;
  const xt = areaTab(w, dw, w / dw), yt = areaTab(h, dh, h / dh);
  const out = new Uint8Array(dw * dh * 3);
  const buf = new Float32Array(dw * 3), sum = new Float32Array(dw * 3);  // OpenCV's float32 sums
  let k = 0;
  for (let dy = 0; dy < dh; dy++) {
    sum.fill(0);
    while (k < yt.length && yt[k][0] === dy) {
      const [, sy, beta] = yt[k++];
      buf.fill(0);
      const row = sy * w * 3;
      for (const [dx, sx, alpha] of xt) {
        const s = row + sx * 3, d = dx * 3;
        buf[d] += Math.fround(data[s] * alpha); buf[d + 1] += Math.fround(data[s + 1] * alpha);
        buf[d + 2] += Math.fround(data[s + 2] * alpha);
      }
      for (let i = 0; i < dw * 3; i++) sum[i] += Math.fround(buf[i] * beta);
    }
    const o = dy * dw * 3;
    for (let i = 0; i < dw * 3; i++) out[o + i] = sat8(cvRound(sum[i]));
  }
  return makeImage(dw, dh, out);
}

function resizeAreaFast(img, dw, dh, sx, sy) {  // integer factors: block mean
  const {w, data} = img, out = new Uint8Array(dw * dh * 3), area = sx * sy;
  const scale = Math.fround(1 / area);
  for (let dy = 0; dy < dh; dy++) for (let dx = 0; dx < dw; dx++) for (let c = 0; c < 3; c++) {
    let s = 0;
    for (let yy = 0; yy < sy; yy++) for (let xx = 0; xx < sx; xx++) s += data[((dy * sy + yy) * w + dx * sx + xx) * 3 + c];
    out[(dy * dw + dx) * 3 + c] = area === 4 ? (s + 2) >> 2 : sat8(cvRound(s * scale));
  }
  return makeImage(dw, dh, out);
}

function linearTab(ssize, dsize, area, rows = false) {  // rows: OpenCV keeps fy and clamps the row indices  // x offsets and fixed-point weights of the linear path
  const inv = dsize / ssize, scale = 1 / inv, xs = new Int32Array(dsize), a0 = new Int32Array(dsize),
    a1 = new Int32Array(dsize);
  for (let dx = 0; dx < dsize; dx++) {
    let sx, fx;
    if (!area) {
      fx = Math.fround((dx + 0.5) * scale - 0.5);
      sx = Math.floor(fx); fx = Math.fround(fx - sx);
    } else {
      sx = Math.floor(dx * scale);
      fx = Math.fround((dx + 1) - (sx + 1) * inv);
      fx = fx <= 0 ? 0 : Math.fround(fx - Math.floor(fx));
    }
    if (!rows && sx < 0) { fx = 0; sx = 0; }
    if (!rows && sx >= ssize - 1) { fx = 0; sx = ssize - 1; }
    xs[dx] = sx;
    a0[dx] = cvRound(Math.fround(1 - fx) * 2048);  // each weight rounded to a short on its own
    a1[dx] = cvRound(fx * 2048);
  }
  return {xs, a0, a1};
}

function resizeLinear(img, dw, dh, area) {
  const {w, h, data} = img, X = linearTab(w, dw, area), Y = linearTab(h, dh, area, true);
  const out = new Uint8Array(dw * dh * 3);
  const hrow = (sy) => {
    const r = new Int32Array(dw * 3), base = sy * w * 3;
    for (let dx = 0; dx < dw; dx++) {
      const x0 = X.xs[dx], x1 = Math.min(x0 + 1, w - 1), a = X.a0[dx], b = X.a1[dx];
      for (let c = 0; c < 3; c++) r[dx * 3 + c] = data[base + x0 * 3 + c] * a + data[base + x1 * 3 + c] * b;
    }
    return r;
  };
  const cache = new Map();
  const get = (sy) => { if (!cache.has(sy)) { if (cache.size > 4) cache.clear(); cache.set(sy, hrow(sy)); } return cache.get(sy); };
  for (let dy = 0; dy < dh; dy++) {
    const y0 = Math.min(Math.max(Y.xs[dy], 0), h - 1), y1 = Math.min(Math.max(Y.xs[dy] + 1, 0), h - 1), b0 = Y.a0[dy], b1 = Y.a1[dy];
    const r0 = get(y0), r1 = get(y1), o = dy * dw * 3;
    // OpenCV's SIMD vertical pass (VResizeLinearVec_32s8u): high halves of 16-bit products, then (+2) >> 2
    for (let i = 0; i < dw * 3; i++) out[o + i] = sat8((((b0 * (r0[i] >> 4)) >> 16) + ((b1 * (r1[i] >> 4)) >> 16) + 2) >> 2);
  }
  return makeImage(dw, dh, out);
}

export function resize(img, dw, dh, interp) {  // interp: 'area' | 'linear'
  if (dw === img.w && dh === img.h) return makeImage(dw, dh, img.data.slice());
  const sx = img.w / dw, sy = img.h / dh;
  const isx = Math.round(sx), isy = Math.round(sy);
  const fast = Math.abs(sx - isx) < 2.220446049250313e-16 && Math.abs(sy - isy) < 2.220446049250313e-16;
  if (interp === 'linear' && fast && isx === 2 && isy === 2) interp = 'area';
  if (interp === 'area' && sx >= 1 && sy >= 1) return fast ? resizeAreaFast(img, dw, dh, isx, isy) : resizeAreaGeneric(img, dw, dh);
  return resizeLinear(img, dw, dh, interp === 'area');
}

// ------------------------------------------------------------------------------------------ colour (cv2.cvtColor, 8-bit)

let LAB = null;
function labTables() {
  if (LAB) return LAB;
  const gammaShift = 3, labShift = 12, labShift2 = 15;
  const intScale = 255 * (1 << gammaShift);
  const gamma = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    const x = i / 255;
    gamma[i] = cvRound(intScale * (x <= 0.04045 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4)));
  }
  const n = 256 * 3 / 2 * (1 << gammaShift), cbrt = new Uint16Array(n);
  const lthresh = 216 / 24389, lscale = 841 / 108, lbias = 16 / 116;
  for (let i = 0; i < n; i++) {
    const x = i / (255 * (1 << gammaShift));
    cbrt[i] = cvRound((1 << labShift2) * (x < lthresh ? x * lscale + lbias : Math.cbrt(x)));
  }
  const M = [0.412453, 0.357580, 0.180423, 0.212671, 0.715160, 0.072169, 0.019334, 0.119193, 0.950227];
  const white = [0.950456, 1.0, 1.088754], C = new Int32Array(9);
  for (let i = 0; i < 3; i++) for (let k = 0; k < 3; k++) C[i * 3 + k] = cvRound((1 << labShift) * M[i * 3 + k] / white[i]);
  LAB = {gamma, cbrt, C, labShift, labShift2};
  return LAB;
}

export function rgbToLab(img) {  // RGB2Lab_b (8-bit): L*255/100, a+128, b+128
  const {gamma, cbrt, C, labShift, labShift2} = labTables();
  const n = img.w * img.h, src = img.data, out = new Uint8Array(n * 3);
  const Lscale = Math.floor((116 * 255 + 50) / 100), Lshift = -Math.floor((16 * 255 * (1 << labShift2) + 50) / 100);
  const d1 = 1 << (labShift - 1), d2 = 1 << (labShift2 - 1);
  for (let i = 0; i < n; i++) {
    const R = gamma[src[i * 3]], G = gamma[src[i * 3 + 1]], B = gamma[src[i * 3 + 2]];
    const fX = cbrt[(R * C[0] + G * C[1] + B * C[2] + d1) >> labShift];
    const fY = cbrt[(R * C[3] + G * C[4] + B * C[5] + d1) >> labShift];
    const fZ = cbrt[(R * C[6] + G * C[7] + B * C[8] + d1) >> labShift];
    out[i * 3] = sat8((Lscale * fY + Lshift + d2) >> labShift2);
    out[i * 3 + 1] = sat8((500 * (fX - fY) + 128 * (1 << labShift2) + d2) >> labShift2);
    out[i * 3 + 2] = sat8((200 * (fY - fZ) + 128 * (1 << labShift2) + d2) >> labShift2);
  }
  return out;
}

export function rgbToGray(img) {  // R*4899 + G*9617 + B*1868, 14-bit fixed point
  const n = img.w * img.h, s = img.data, out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (s[i * 3] * 4899 + s[i * 3 + 1] * 9617 + s[i * 3 + 2] * 1868 + 8192) >> 14;
  return out;
}

let HSV = null;
export function rgbToHsv(img) {  // RGB2HSV_b, hue 0..180
  if (!HSV) {
    const sdiv = new Int32Array(256), hdiv = new Int32Array(256);
    for (let i = 1; i < 256; i++) { sdiv[i] = cvRound((255 << 12) / i); hdiv[i] = cvRound((180 << 12) / (6 * i)); }
    HSV = {sdiv, hdiv};
  }
  const {sdiv, hdiv} = HSV, n = img.w * img.h, src = img.data, out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const r = src[i * 3], g = src[i * 3 + 1], b = src[i * 3 + 2];
    const v = Math.max(r, g, b), vmin = Math.min(r, g, b), diff = v - vmin;
    const vr = v === r ? -1 : 0, vg = v === g ? -1 : 0;
    const s = (diff * sdiv[v] + 2048) >> 12;
    let h = (vr & (g - b)) + (~vr & ((vg & (b - r + 2 * diff)) + (~vg & (r - g + 4 * diff))));
    h = (h * hdiv[diff] + 2048) >> 12;
    if (h < 0) h += 180;
    out[i * 3] = h; out[i * 3 + 1] = s; out[i * 3 + 2] = v;
  }
  return out;
}

// ------------------------------------------------------------------------------------------ filters

const reflect101 = (i, n) => (n === 1 ? 0 : i < 0 ? -i : i >= n ? 2 * n - 2 - i : i);

export function gaussianBlur3(img) {  // GaussianBlur((3,3), 0) on 8-bit: [1 2 1]x[1 2 1]/16, rounded half up
  const {w, h, data} = img, out = new Uint8Array(w * h * 3), tmp = new Int32Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const xl = reflect101(x - 1, w), xr = reflect101(x + 1, w);
    for (let c = 0; c < 3; c++) tmp[(y * w + x) * 3 + c] = data[(y * w + xl) * 3 + c] + 2 * data[(y * w + x) * 3 + c] + data[(y * w + xr) * 3 + c];
  }
  for (let y = 0; y < h; y++) {
    const yu = reflect101(y - 1, h), yd = reflect101(y + 1, h);
    for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) {
      const s = tmp[(yu * w + x) * 3 + c] + 2 * tmp[(y * w + x) * 3 + c] + tmp[(yd * w + x) * 3 + c];
      out[(y * w + x) * 3 + c] = (s * 4096 + 32768) >> 16;
    }
  }
  return makeImage(w, h, out);
}

function sobelMagnitude(gray, w, h) {  // hypot(Sobel dx, Sobel dy), float32, reflect-101
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const u = reflect101(y - 1, h) * w, m = y * w, d = reflect101(y + 1, h) * w;
    for (let x = 0; x < w; x++) {
      const l = reflect101(x - 1, w), r = reflect101(x + 1, w);
      const dx = (gray[u + r] - gray[u + l]) + 2 * (gray[m + r] - gray[m + l]) + (gray[d + r] - gray[d + l]);
      const dy = (gray[d + l] - gray[u + l]) + 2 * (gray[d + x] - gray[u + x]) + (gray[d + r] - gray[u + r]);
      out[m + x] = Math.sqrt(dx * dx + dy * dy);  // exact for these integers, then rounded to float32
    }
  }
  return out;
}

function median(values) {  // numpy.median
  const a = Float64Array.from(values).sort(), n = a.length;
  return n % 2 ? a[(n - 1) / 2] : (a[n / 2 - 1] + a[n / 2]) / 2;
}

function otsu(d8) {  // getThreshVal_Otsu_8u
  const hist = new Float64Array(256);
  for (const v of d8) hist[v]++;
  const scale = 1 / d8.length;
  let mu = 0;
  for (let i = 0; i < 256; i++) mu += i * hist[i];
  mu *= scale;
  let mu1 = 0, q1 = 0, maxSigma = 0, maxVal = 0;
  const eps = 1.1920928955078125e-07;
  for (let i = 0; i < 256; i++) {
    const p = hist[i] * scale;
    mu1 *= q1; q1 += p;
    const q2 = 1 - q1;
    if (Math.min(q1, q2) < eps || Math.max(q1, q2) > 1 - eps) continue;
    mu1 = (mu1 + i * p) / q1;
    const mu2 = (mu - q1 * mu1) / q2;
    const sigma = q1 * q2 * (mu1 - mu2) * (mu1 - mu2);
    if (sigma > maxSigma) { maxSigma = sigma; maxVal = i; }
  }
  return maxVal;
}

// binary masks: Uint8Array of 0/1; the 3x3 ellipse is a cross; outside the image never counts
function morph(mask, w, h, dilate) {
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const i = y * w + x;
    let v = mask[i];
    if (dilate) {
      if (!v) v = (x > 0 && mask[i - 1]) || (x < w - 1 && mask[i + 1]) || (y > 0 && mask[i - w]) || (y < h - 1 && mask[i + w]) ? 1 : 0;
    } else if (v) {
      v = (x > 0 && !mask[i - 1]) || (x < w - 1 && !mask[i + 1]) || (y > 0 && !mask[i - w]) || (y < h - 1 && !mask[i + w]) ? 0 : 1;
    }
    out[i] = v;
  }
  return out;
}

function mainComponent(mask, w, h) {  // largest 8-connected component, holes filled (findContours + drawContours)
  const lab = new Int32Array(w * h), areas = [0], stack = [];
  let n = 0;
  for (let i = 0; i < w * h; i++) {
    if (!mask[i] || lab[i]) continue;
    n++; let area = 0; lab[i] = n; stack.push(i);
    while (stack.length) {
      const p = stack.pop(), px = p % w, py = (p - px) / w; area++;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
        const x = px + dx, y = py + dy;
        if (x < 0 || y < 0 || x >= w || y >= h) continue;
        const q = y * w + x;
        if (mask[q] && !lab[q]) { lab[q] = n; stack.push(q); }
      }
    }
    areas.push(area);
  }
  if (n === 0) return null;
  let best = 1;
  for (let k = 2; k <= n; k++) if (areas[k] > areas[best]) best = k;
  // the filled outer contour = the component and every background pixel the outside cannot reach (4-connected)
  const comp = new Uint8Array(w * h);
  for (let i = 0; i < w * h; i++) comp[i] = lab[i] === best ? 1 : 0;
  const outside = new Uint8Array(w * h);
  for (let x = 0; x < w; x++) { stack.push(x, (h - 1) * w + x); }
  for (let y = 0; y < h; y++) { stack.push(y * w, y * w + w - 1); }
  while (stack.length) {
    const p = stack.pop();
    if (outside[p] || comp[p]) continue;
    outside[p] = 1;
    const px = p % w, py = (p - px) / w;
    if (px > 0) stack.push(p - 1); if (px < w - 1) stack.push(p + 1);
    if (py > 0) stack.push(p - w); if (py < h - 1) stack.push(p + w);
  }
  const filled = new Uint8Array(w * h);
  let any = false;
  for (let i = 0; i < w * h; i++) if (!outside[i]) { filled[i] = 1; any = true; }
  return any ? filled : new Uint8Array(w * h);
}

// ------------------------------------------------------------------------------------------ locate.py

function small(img, size) {  // _small: long side to `size` with INTER_AREA
  const scale = size / Math.max(img.w, img.h);
  if (scale >= 1) return img;
  return resize(img, Math.max(1, pyRound(img.w * scale)), Math.max(1, pyRound(img.h * scale)), 'area');
}

export function foregroundMask(img, cfg) {
  const sm = small(img, cfg.work_size);
  const lab = rgbToLab(gaussianBlur3(sm));
  const b = cfg.border, w = sm.w, h = sm.h;
  if (h <= 4 * b || w <= 4 * b) return {mask: null, why: 'photo too small to locate a leaf'};
  const frame = [];  // rows [0, b), [h-b, h), then columns of the rows between
  const push = (y, x) => frame.push(y * w + x);
  for (let y = 0; y < b; y++) for (let x = 0; x < w; x++) push(y, x);
  for (let y = h - b; y < h; y++) for (let x = 0; x < w; x++) push(y, x);
  for (let y = b; y < h - b; y++) for (let x = 0; x < b; x++) push(y, x);
  for (let y = b; y < h - b; y++) for (let x = w - b; x < w; x++) push(y, x);
  const ref = [0, 1, 2].map((c) => Math.fround(median(frame.map((i) => lab[i * 3 + c]))));
  const dists = new Float32Array(w * h);  // np.linalg.norm in float32
  for (let i = 0; i < w * h; i++) {
    const a = Math.fround(lab[i * 3] - ref[0]), bb = Math.fround(lab[i * 3 + 1] - ref[1]), c = Math.fround(lab[i * 3 + 2] - ref[2]);
    dists[i] = Math.sqrt(Math.fround(Math.fround(Math.fround(a * a) + Math.fround(bb * bb)) + Math.fround(c * c)));
  }
  const dist = (i) => dists[i];
  let near = 0;
  for (const i of frame) if (dist(i) < cfg.color_tolerance) near++;
  if (near / frame.length < cfg.plain_border_share) return {mask: null, why: 'no plain background around the leaf'};
  const gray = rgbToGray(sm), grad = sobelMagnitude(gray, w, h);
  const ringGrad = [];
  for (let y = 1; y < h - 1; y++) for (let x = 1; x < w - 1; x++) {
    if (!(y <= b || y >= h - b - 1 || x <= b || x >= w - b - 1)) continue;
    const i = y * w + x;
    if (dist(i) < cfg.color_tolerance) ringGrad.push(grad[i]);
  }
  if (!ringGrad.length || median(ringGrad) > cfg.max_texture) return {mask: null, why: 'no plain background around the leaf'};
  const d8 = new Uint8Array(w * h);
  for (let i = 0; i < w * h; i++) { const v = dist(i) * 2; d8[i] = v < 0 ? 0 : v > 255 ? 255 : Math.trunc(v); }
  const thr = Math.max(otsu(d8), 2 * cfg.color_tolerance);
  let mask = new Uint8Array(w * h);
  for (let i = 0; i < w * h; i++) mask[i] = d8[i] > thr ? 1 : 0;
  mask = morph(morph(mask, w, h, false), w, h, true);                       // open
  mask = morph(morph(mask, w, h, true), w, h, true);                        // close, 2 iterations: dilate x2
  mask = morph(morph(mask, w, h, false), w, h, false);                      //                      erode x2
  return {mask, w, h, why: ''};
}

export function locate(img, cfg) {
  const whole = (reason) => ({image: img, framing: 'whole', box: [0, 0, img.w, img.h], rotated: false, reason});
  if (!cfg || !cfg.enabled) return whole('locator off');
  const fm = foregroundMask(img, cfg);
  if (!fm.mask) return whole(fm.why);
  const sw = fm.w, sh = fm.h, comp = mainComponent(fm.mask, sw, sh);
  if (!comp) return whole('nothing stands out from the background');
  let count = 0, bx0 = sw, bx1 = -1, by0 = sh, by1 = -1;
  for (let y = 0; y < sh; y++) for (let x = 0; x < sw; x++) if (comp[y * sw + x]) {
    count++; if (x < bx0) bx0 = x; if (x > bx1) bx1 = x; if (y < by0) by0 = y; if (y > by1) by1 = y;
  }
  const area = count / (sw * sh);
  if (area < cfg.min_area) return whole(`the largest object covers only ${Math.round(area * 100)}% of the photo`);
  bx1 += 1; by1 += 1;
  const boxShare = (bx1 - bx0) * (by1 - by0) / (sw * sh);
  if (area > cfg.max_area || boxShare > 0.9) return whole('the leaf fills the photo');
  const mx = cfg.margin * (bx1 - bx0), my = cfg.margin * (by1 - by0), fx = img.w / sw, fy = img.h / sh;
  const x0 = Math.trunc(Math.max(0, (bx0 - mx) * fx)), x1 = Math.trunc(Math.min(img.w, Math.ceil((bx1 + mx) * fx)));
  const y0 = Math.trunc(Math.max(0, (by0 - my) * fy)), y1 = Math.trunc(Math.min(img.h, Math.ceil((by1 + my) * fy)));
  if (x1 - x0 < 8 || y1 - y0 < 8) return whole('the leaf is too small to crop');
  let crop = cropImage(img, x0, y0, x1, y1);
  const rotated = !!cfg.landscape && (y1 - y0) > 1.15 * (x1 - x0);
  if (rotated) crop = rotateClockwise(crop);
  return {image: crop, framing: 'leaf', box: [x0, y0, x1, y1], rotated, reason: ''};
}

export function plantShare(img, size = 32) {
  const sm = small(img, size), hsv = rgbToHsv(sm), n = sm.w * sm.h;
  let green = 0;
  for (let i = 0; i < n; i++) {
    const h = hsv[i * 3], s = hsv[i * 3 + 1], v = hsv[i * 3 + 2];
    if (h >= 22 && h <= 90 && s >= 60 && v >= 40) green++;
  }
  return green / n;
}

// ------------------------------------------------------------------------------------------ preprocess.py

export function geometry(img, pre) {
  const size = pre.input_size;
  if (pre.policy === 'squash') {
    if (img.w === size && img.h === size) return img;
    return resize(img, size, size, Math.min(img.w, img.h) > size ? 'area' : 'linear');
  }
  // resize_shorter_center_crop
  const rs = pre.resize_size, scale = rs / Math.min(img.w, img.h);
  const nh = Math.max(rs, pyRound(img.h * scale)), nw = Math.max(rs, pyRound(img.w * scale));
  const r = (nh === img.h && nw === img.w) ? img : resize(img, nw, nh, scale < 1 ? 'area' : 'linear');
  const top = Math.floor((r.h - size) / 2), left = Math.floor((r.w - size) / 2);
  return cropImage(r, left, top, left + size, top + size);
}

export function normalize(img, pre) {  // float32 CHW, exactly numpy's float32 arithmetic
  const n = img.w * img.h, out = new Float32Array(3 * n), k = Math.fround(1 / 255);
  const mean = pre.mean.map(Math.fround), std = pre.std.map(Math.fround);
  for (let c = 0; c < 3; c++) for (let i = 0; i < n; i++) {
    const x = Math.fround(img.data[i * 3 + c] * k);
    out[c * n + i] = Math.fround(Math.fround(x - mean[c]) / std[c]);
  }
  return out;
}

// ------------------------------------------------------------------------------------------ runtime.decide

function softmaxEnergy(logits, t) {  // float64 like numpy, probabilities returned as float32
  const z = Array.from(logits, (v) => v / t);
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return {probs: Float32Array.from(e, (v) => v / s), energy: -t * (m + Math.log(s))};
}

const argsortDesc = (p) => Array.from(p.keys()).sort((a, b) => (p[b] - p[a]) || (a - b));  // stable
const cropOf = (label) => label.split('.')[0];
const unnamedProblem = (label) => { const i = label.indexOf('.'); return (i < 0 ? label : label.slice(i + 1)) === 'other'; };
const pct = (x) => `${pyRound(x * 100)}%`;

export function cropMass(meta, probs) {
  const mass = new Map();
  meta.labels.forEach((lab, i) => {
    if (lab !== meta.background_label) { const c = cropOf(lab); mass.set(c, (mass.get(c) || 0) + probs[i]); }
  });
  return Array.from(mass.entries()).sort((a, b) => b[1] - a[1]);  // stable on ties, like sorted()
}

// model/results.py NO_LEAF_SEEN: the reason code of an "uncertain" photo whose nearest label is no guess at all
export const NO_LEAF_SEEN = 'no_leaf_seen';
export const CROP_MISMATCH = 'crop_mismatch';

// Port of model/runtime.py Predictor.decide. KEEP IN SYNC: tests/test_phone_parity.py compares the two.
export function decide(meta, logits, topK = 3, plant = null, crop = null) {
  const labels = meta.labels, bgLabel = meta.background_label, th = meta.thresholds;
  const uncertainBelow = th.uncertain_below, oodAbove = th.ood_energy_above;
  const plantMin = th.plant_share_min === undefined ? null : th.plant_share_min;
  let {probs, energy} = softmaxEnergy(logits, meta.temperature);
  const n = Math.max(1, Math.min(topK, labels.length));
  let order = argsortDesc(probs);
  const best = labels[order[0]], conf0 = probs[order[0]];
  const bgWins = best === bgLabel;
  const unfamiliar = energy > oodAbove;
  const plantSeen = plantMin !== null && plant !== null && plant >= plantMin;
  const crops = cropMass(meta, probs);
  let cropNote = null, answerCrop;
  if (crop !== null) {
    const keep = labels.map((l) => cropOf(l) === crop);
    const cp = softmaxEnergy(Array.from(logits, (v, i) => (keep[i] ? v : -Infinity)), meta.temperature).probs;
    const other = crops.find(([c]) => c !== crop);
    const namedP = (crops.find(([c]) => c === crop) || [null, 0])[1];
    if (other && other[1] >= 0.5 && other[1] >= 2 * namedP) {
      cropNote = `the photo looks more like ${other[0]} (${pct(other[1])}) than ${crop}; check the crop you chose`;
    }
    probs = Float32Array.from(cp, (v) => (Number.isNaN(v) ? 0 : v));
    order = argsortDesc(probs).filter((i) => keep[i]);
    answerCrop = crop;
  } else {
    answerCrop = crops.length ? crops[0][0] : null;
  }
  const cropScores = crops.filter(([, p]) => p >= 0.01).map(([c, p]) => [c, Math.round(p * 1e4) / 1e4]);
  const leaf = order.filter((i) => labels[i] !== bgLabel);
  const first = leaf.find((i) => cropOf(labels[i]) === answerCrop) ?? leaf[0];
  // `<crop>.other` carries no evidence of a problem, only of the crop: without living-leaf colour it is no plant
  const cropOnly = unnamedProblem(labels[first]) && plantMin !== null && plant !== null;
  if ((bgWins || unfamiliar || cropOnly) && !plantSeen) {
    const why = bgWins ? 'the no-leaf class scored highest'
      : unfamiliar ? `the photo is unlike the crop leaves the model learned (energy ${energy.toFixed(2)} above ${oodAbove.toFixed(2)})`
        : 'the photo has almost no living-leaf colour and shows no problem the model can name';
    const code = bgWins ? 'no_leaf_class' : unfamiliar ? 'unfamiliar' : 'no_plant_colour';
    return {status: 'not_a_leaf', label: bgLabel, confidence: bgWins ? conf0 : null,
      top_k: order.slice(0, n).map((i) => [labels[i], probs[i]]), reason: why, reason_code: code, energy,
      crop_note: cropNote, crop_scores: cropScores};
  }
  // a leaf: the answer crop's best label first, then the rest of the leaf ranking
  const ranked = [first, ...leaf.filter((i) => i !== first)];
  const top = ranked.slice(0, n).map((i) => [labels[i], probs[i]]);
  let [label, conf] = top[0];
  let status, reason, code;
  if (bgWins) {  // the model's answer is "no leaf" on a photo with plant colour: it stays the answer (NO_LEAF_SEEN)
    label = bgLabel; conf = conf0;
    status = 'uncertain'; code = NO_LEAF_SEEN;
    reason = 'the photo has plant colour but the model sees no single leaf in it (grass, plants far away or a blurred photo?)';
  } else if (unfamiliar) {
    status = 'uncertain'; code = 'unfamiliar';
    reason = 'a plant is in the photo but the model does not recognise this crop or problem yet; the nearest labels are shown';
  } else if (cropNote !== null) {  // a named crop the photo clearly does not show (runtime.py: CROP_MISMATCH)
    status = 'uncertain'; code = CROP_MISMATCH; reason = cropNote;
  } else if (unnamedProblem(label)) {
    status = 'uncertain'; code = 'unnamed_problem';
    reason = `${cropOf(label)}: not one of the diseases LeafScout knows; choose the problem from the ${cropOf(label)} entries of the advice`;
  } else if (conf < uncertainBelow) {
    status = 'uncertain'; code = 'low_confidence';
    reason = `confidence ${pct(conf)} is under the ${pct(uncertainBelow)} needed to be sure`;
  } else {
    status = 'ok'; reason = ''; code = '';
  }
  return {status, label, confidence: conf, top_k: top, reason, reason_code: code, energy, crop_note: cropNote,
    crop_scores: cropScores};
}

// ------------------------------------------------------------------------------------------ image gate (imageio.py)

const FIX = 'send a JPEG or PNG photo taken with the phone camera';

export function sniff(bytes) {  // what the header says, without decoding pixels
  const b = bytes, n = b.length;
  const u16be = (i) => (b[i] << 8) | b[i + 1], u32be = (i) => ((b[i] << 24) >>> 0) + (b[i + 1] << 16) + (b[i + 2] << 8) + b[i + 3];
  const u16le = (i) => b[i] | (b[i + 1] << 8), u32le = (i) => b[i] + (b[i + 1] << 8) + (b[i + 2] << 16) + ((b[i + 3] << 24) >>> 0);
  const ascii = (i, k) => String.fromCharCode(...b.subarray(i, i + k));
  if (n >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) {
    let i = 2;
    while (i + 9 < n) {
      if (b[i] !== 0xff) { i++; continue; }
      const m = b[i + 1];
      if (m === 0xd8 || m === 0x01 || (m >= 0xd0 && m <= 0xd7) || m === 0xff) { i += (m === 0xff ? 1 : 2); continue; }
      const len = u16be(i + 2);
      if ((m >= 0xc0 && m <= 0xcf) && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
        return {format: 'JPEG', height: u16be(i + 5), width: u16be(i + 7), channels: b[i + 9] || 3, bytesPerSample: 1};
      }
      if (m === 0xda || len < 2) break;
      i += 2 + len;
    }
    return {format: 'JPEG', damaged: true};
  }
  if (n >= 8 && b[0] === 0x89 && ascii(1, 3) === 'PNG') {
    if (n < 26 || ascii(12, 4) !== 'IHDR') return {format: 'PNG', damaged: true};
    const depth = b[24], ct = b[25], ch = {0: 1, 2: 3, 3: 4, 4: 2, 6: 4}[ct] || 4;
    return {format: 'PNG', width: u32be(16), height: u32be(20), channels: ch, bytesPerSample: Math.max(1, Math.ceil(depth / 8))};
  }
  if (n >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 4) === 'WEBP') {
    const kind = ascii(12, 4);
    if (kind === 'VP8X' && n >= 30) return {format: 'WEBP', width: 1 + (b[24] | (b[25] << 8) | (b[26] << 16)), height: 1 + (b[27] | (b[28] << 8) | (b[29] << 16)), channels: 4, bytesPerSample: 1};
    if (kind === 'VP8 ' && n >= 30) return {format: 'WEBP', width: u16le(26) & 0x3fff, height: u16le(28) & 0x3fff, channels: 3, bytesPerSample: 1};
    if (kind === 'VP8L' && n >= 25) { const v = u32le(21); return {format: 'WEBP', width: 1 + (v & 0x3fff), height: 1 + ((v >> 14) & 0x3fff), channels: 4, bytesPerSample: 1}; }
    return {format: 'WEBP', damaged: true};
  }
  if (n >= 26 && b[0] === 0x42 && b[1] === 0x4d) return {format: 'BMP', width: Math.abs(u32le(18) | 0), height: Math.abs(u32le(22) | 0), channels: 4, bytesPerSample: 1};
  if (n >= 10 && ascii(0, 4).startsWith('GIF8')) return {format: 'GIF', width: u16le(6), height: u16le(8), channels: 4, bytesPerSample: 1};
  return null;
}

function whatIsIt(b) {
  const ascii = (i, k) => String.fromCharCode(...b.subarray(i, i + k));
  if (b.length >= 12 && ['ftypheic', 'ftypheix', 'ftypmif1', 'ftyphevc', 'ftypmsf1'].includes(ascii(4, 8))) {
    return ['an HEIC/HEIF photo (iPhone default), which LeafScout cannot decode yet', 'heic'];
  }
  const head = ascii(0, 64).trimStart();
  if (head.startsWith('%PDF')) return ['a PDF document', 'not_image'];
  if (head.startsWith('PK\x03\x04')) return ['a ZIP archive (or an Office document)', 'not_image'];
  if (/^(\{|\[|<!doctype|<html|<\?xml|<svg)/i.test(head)) return ['a text/markup file (JSON, HTML, XML or SVG)', 'not_image'];
  if (b.length >= 8 && ascii(4, 4) === 'ftyp') return ['a video (MP4/MOV)', 'not_image'];
  try { new TextDecoder('utf-8', {fatal: true}).decode(b.subarray(0, 512)); return ['a text file', 'not_image']; } catch (e) { /* binary */ }
  return ['a file of an unknown binary format', 'not_image'];
}

// Header checks, all before any pixel is decoded. Returns the header info.
export function checkBytes(bytes, name = 'the image', minShortSide = null) {
  if (!bytes || bytes.length === 0) throw new ImageGateError(`${name} is empty (0 bytes): the upload or copy did not finish; take or copy the photo again`, 'empty');
  if (bytes.length > MAX_BYTES) throw new ImageGateError(`${name} is ${Math.round(bytes.length / 1048576)} MB; a phone photo is under ${MAX_BYTES / 1048576} MB. ${FIX}`, 'too_large');
  const info = sniff(bytes);
  if (!info) {
    const [what, code] = whatIsIt(bytes);
    throw new ImageGateError(`${name} is not a photo LeafScout can read: expected JPEG, PNG, WebP, BMP or TIFF, got ${what}. ${FIX}`, code);
  }
  if (info.damaged) {  // what PIL says of a known magic number with a broken header
    throw new ImageGateError(`${name} is not a photo LeafScout can read: expected JPEG, PNG, WebP, BMP or TIFF, got a ${info.format} file whose header is damaged (corrupt or truncated). ${FIX}`, 'not_image');
  }
  const {width: w, height: h} = info;
  if (w * h > MAX_PIXELS) throw new ImageGateError(`${name} is ${w}x${h} = ${Math.round(w * h / 1e6)} MP, over the ${MAX_PIXELS / 1e6} MP limit (a guard against decompression bombs); resize it below that, e.g. to 4000x3000`, 'too_large');
  if (Math.min(w, h) < MIN_SIDE) throw new ImageGateError(`${name} is only ${w}x${h} pixels; expected at least ${MIN_SIDE} px on each side. Send the original photo, not a thumbnail`, 'too_small');
  const red = reduction(info, minShortSide);
  const need = Math.ceil(w / red) * Math.ceil(h / red) * info.channels * info.bytesPerSample;
  if (need > MAX_DECODED_BYTES) throw new ImageGateError(`${name} is ${w}x${h}: decoding it would take ${Math.round(need / 1048576)} MB, over the ${MAX_DECODED_BYTES / 1048576} MB limit (a guard against pixel bombs). Save it as an 8-bit RGB JPEG, as a phone camera does`, 'too_large');
  return info;
}

// Largest libjpeg DCT scale (8, 4, 2) that keeps the shorter side >= minShortSide (JPEG only), as Python decodes.
export function reduction(info, minShortSide) {
  if (info.format !== 'JPEG' || !minShortSide) return 1;
  const short = Math.min(info.width, info.height);
  for (const f of [8, 4, 2]) if (Math.floor(short / f) >= minShortSide) return f;
  return 1;
}

// libjpeg's 1/f DCT scaling keeps about each f x f block's mean: an image decoded at full
// size, averaged (readImageAt's strip path does the same a strip at a time).
export function reduceBy(img, f) {
  if (f === 1) return img;
  const dw = Math.ceil(img.w / f), dh = Math.ceil(img.h / f), out = new Uint8Array(dw * dh * 3);
  for (let dy = 0; dy < dh; dy++) for (let dx = 0; dx < dw; dx++) {
    const ys = dy * f, xs = dx * f, ye = Math.min(img.h, ys + f), xe = Math.min(img.w, xs + f);
    const cnt = (ye - ys) * (xe - xs);
    for (let c = 0; c < 3; c++) {
      let s = 0;
      for (let y = ys; y < ye; y++) for (let x = xs; x < xe; x++) s += img.data[(y * img.w + x) * 3 + c];
      out[(dy * dw + dx) * 3 + c] = Math.floor(s / cnt + 0.5);
    }
  }
  return makeImage(dw, dh, out);
}

// The photo decoded at full size and its header info (kept for callers that need every pixel; the app decodes
// with readImageAt, which never holds a big photo whole).
export async function readImageFull(bytes, minShortSide, name = 'the image') {
  const info = checkBytes(bytes, name, minShortSide);
  return {image: await decodeFull(bytes, info, name), info};
}

const corrupt = (name, info) => new ImageGateError(`${name} is truncated or corrupt: its ${info.format} header is fine but the pixel data cannot be decoded. The copy or upload probably stopped early; copy the original photo again`, 'corrupt');
const BITMAP_OPTIONS = {imageOrientation: 'from-image', colorSpaceConversion: 'none', premultiplyAlpha: 'default'};

async function bitmapOf(bytes, info, name) {
  try {
    return await createImageBitmap(new Blob([bytes]), BITMAP_OPTIONS);
  } catch (e) {
    throw corrupt(name, info);
  }
}

function canvas2d(w, h) {
  const canvas = typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(w, h) : Object.assign(document.createElement('canvas'), {width: w, height: h});
  const ctx = canvas.getContext('2d', {willReadFrequently: true, colorSpace: 'srgb'});
  ctx.imageSmoothingEnabled = false;  // every copy here is 1:1: no resampling of any pixel
  return ctx;
}

// `src` (an ImageBitmap or VideoFrame, w x h as shown) drawn on white -> RGB image
function rgbOf(src, w, h) {
  const ctx = canvas2d(w, h);
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, w, h);
  ctx.drawImage(src, 0, 0, w, h);
  const rgba = ctx.getImageData(0, 0, w, h).data, rgb = new Uint8Array(w * h * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) { rgb[j] = rgba[i]; rgb[j + 1] = rgba[i + 1]; rgb[j + 2] = rgba[i + 2]; }
  return makeImage(w, h, rgb);
}

async function decodeFull(bytes, info, name) {
  const bmp = await bitmapOf(bytes, info, name);
  try {
    return rgbOf(bmp, bmp.width, bmp.height);
  } finally {
    if (bmp.close) bmp.close();
  }
}

// A phone photo decoded at 1/f size, as model.imageio.read_image decodes it for a model whose side keeps f
// (reduction(info, side)) -> {image, ow, oh, via}: ow x oh is the photo as shown (EXIF orientation applied) at
// full size, the pixels every box is given in.
//
// Why: a 50 MP photo (8160x6120, common on cheap phones) decoded whole is 200 MB of RGBA in the decoder, as much
// on the canvas and in getImageData's copy, 150 MB as RGB: the tab took ~540 MB more and was killed on a
// 3-4 GB phone, the photo lost (benchmarks/phone_big_photo.py measures it). Python never decodes it whole:
// libjpeg's DCT scaling gives 1/2, 1/4 or 1/8 directly (cv2.IMREAD_REDUCED_COLOR_*). The WebCodecs ImageDecoder
// asked for that size (desiredWidth/desiredHeight) makes the browser's JPEG decoder (libjpeg-turbo too) scale
// the same way: the very pixels OpenCV gives (tests/test_phone_big_photo.py checks them), in a few MB. A browser
// without it, or one that gives another size, decodes the photo whole as an ImageBitmap but reads it back a strip
// at a time, averaging f x f blocks (reduceBy's arithmetic): the decoder's copy only, never the other three.
export async function readImageAt(bytes, info, f, name = 'the image') {
  if (f === 1) {
    const image = await decodeFull(bytes, info, name);
    return {image, ow: image.w, oh: image.h, via: 'full'};
  }
  return (await readImageScaled(bytes, info, f)) || decodeByStrips(bytes, info, f, name);
}

// The scaled decode alone (null where the browser cannot give it): what the preview is drawn from.
export async function readImageScaled(bytes, info, f) {
  if (typeof ImageDecoder === 'undefined' || info.format !== 'JPEG') return null;
  const cw = Math.ceil(info.width / f), ch = Math.ceil(info.height / f);
  let dec = null, frame = null;
  try {
    dec = new ImageDecoder({data: bytes, type: 'image/jpeg', desiredWidth: cw, desiredHeight: ch,
      colorSpaceConversion: 'none', preferAnimation: false});
    frame = (await dec.decode({frameIndex: 0})).image;
    // not the size asked for, or a browser whose frames do not carry the EXIF orientation (VideoFrame.rotation,
    // applied by drawImage): the strip path, which is sure of both
    if (frame.codedWidth !== cw || frame.codedHeight !== ch || !('rotation' in frame)) return null;
    const w = frame.displayWidth, h = frame.displayHeight, turned = w !== cw;
    return {image: rgbOf(frame, w, h), ow: turned ? info.height : info.width, oh: turned ? info.width : info.height,
      via: 'scaled'};
  } catch (e) {  // the strip path decides: a photo it cannot decode either is refused there ('corrupt')
    return null;
  } finally {
    if (frame) frame.close();
    if (dec) dec.close();
  }
}

const STRIP_PIXELS = 1 << 20;  // ~4 MB of RGBA a strip

async function decodeByStrips(bytes, info, f, name) {
  const bmp = await bitmapOf(bytes, info, name);
  try {
    const w = bmp.width, h = bmp.height, dw = Math.ceil(w / f), dh = Math.ceil(h / f);
    const rows = f * Math.max(1, Math.floor(STRIP_PIXELS / (w * f)));
    const ctx = canvas2d(w, rows), out = new Uint8Array(dw * dh * 3), sums = new Float64Array(dw * 3);
    for (let y0 = 0; y0 < h; y0 += rows) {
      const n = Math.min(rows, h - y0);
      ctx.fillStyle = '#ffffff';
      ctx.fillRect(0, 0, w, n);
      ctx.drawImage(bmp, 0, y0, w, n, 0, 0, w, n);
      const px = ctx.getImageData(0, 0, w, n).data;
      for (let by = 0; by < n; by += f) {  // one output row: the block's mean, as reduceBy rounds it
        const ye = Math.min(n, by + f), dy = (y0 + by) / f;
        sums.fill(0);
        for (let y = by; y < ye; y++) for (let x = 0; x < w; x++) {
          const s = (y * w + x) * 4, d = Math.floor(x / f) * 3;
          sums[d] += px[s]; sums[d + 1] += px[s + 1]; sums[d + 2] += px[s + 2];
        }
        for (let dx = 0; dx < dw; dx++) {
          const cnt = (ye - by) * (Math.min(w, dx * f + f) - dx * f), o = (dy * dw + dx) * 3;
          for (let c = 0; c < 3; c++) out[o + c] = Math.floor(sums[dx * 3 + c] / cnt + 0.5);
        }
      }
    }
    return {image: makeImage(dw, dh, out), ow: w, oh: h, via: 'strips'};
  } finally {
    if (bmp.close) bmp.close();
  }
}

// ------------------------------------------------------------------------------------------ the whole pipeline

// rgb image -> {tensor, located, plant, view}: Predictor.views + plant_share, the exact order Python uses
export function prepare(img, meta) {
  const located = locate(img, meta.locator);
  const view = geometry(located.image, meta.preprocess);
  return {tensor: normalize(view, meta.preprocess), located, plant: plantShare(img), view};
}

// ------------------------------------------------------------------------------------------ insects (model/detect.py)
// The rice insect detector and its labeler, ported from model.detect.Detector and the service's gate
// (leafscout/service.py _pests_may_be_there). Every setting comes from model/pests.json (built from the ONNX
// metadata and the service's constants). tests/test_phone_pests.py compares boxes, scores, labels and counts.

// Whether the detector should look at this photo: DiagnosisService._pests_may_be_there, same order of tests.
export function pestsMayBeThere(pmeta, meta, result, crop) {
  if (!pmeta) return false;
  // pmeta.labels: the insect classes only (never a scene detector's plant.leaf: "plant" is no pest crop)
  const pestCrops = new Set(pmeta.labels.map(cropOf));
  const known = new Set(meta.crops || []);
  const mass = new Map(result.crop_scores || []);
  const both = [...pestCrops].filter((c) => known.has(c));
  if (result.status === 'not_a_leaf') return both.some((c) => (mass.get(c) || 0) >= pmeta.gate.no_leaf_crop_min);
  if (!pestCrops.size || !both.length) return true;
  if (crop) return pestCrops.has(crop);
  if (result.status === 'uncertain') return true;
  return [...pestCrops].some((c) => (mass.get(c) || 0) >= pmeta.gate.crop_min);
}

// letterbox(): the whole photo, aspect kept, centred on grey in a size x size square
export function letterbox(img, size, pad) {
  const scale = size / Math.max(img.w, img.h);
  const nw = Math.max(1, pyRound(img.w * scale)), nh = Math.max(1, pyRound(img.h * scale));
  const r = (nw === img.w && nh === img.h) ? img : resize(img, nw, nh, scale < 1 ? 'area' : 'linear');
  const out = new Uint8Array(size * size * 3).fill(pad);
  const px = Math.floor((size - nw) / 2), py = Math.floor((size - nh) / 2);
  for (let y = 0; y < nh; y++) out.set(r.data.subarray(y * nw * 3, (y + 1) * nw * 3), ((py + y) * size + px) * 3);
  return {image: makeImage(size, size, out), lb: {width: img.w, height: img.h, size, scale, pad_x: px, pad_y: py}};
}

function iou(a, b) {  // box_iou of two boxes, float64 like numpy
  const w = Math.max(Math.min(a[2], b[2]) - Math.max(a[0], b[0]), 0), h = Math.max(Math.min(a[3], b[3]) - Math.max(a[1], b[1]), 0);
  const inter = w * h;
  const aa = Math.max(a[2] - a[0], 0) * Math.max(a[3] - a[1], 0), ab = Math.max(b[2] - b[0], 0) * Math.max(b[3] - b[1], 0);
  return inter / Math.max(aa + ab - inter, 1e-9);
}

// postprocess(): scores [A*C], boxes [A*4] (one image) -> [{box, score, cls}], highest score first.
// nC is the network's class count (scores.dims[2]); only the first pmeta.labels.length classes are insects: a
// scene detector's last class, plant.leaf, is never looked at here (Detector._pests slices it off the same way)
export function decodeDetections(scores, boxes, nA, nC, pmeta, threshold = null) {
  const cand = [], nI = Math.min(nC, pmeta.labels.length);
  for (let a = 0; a < nA; a++) {
    let c = 0, best = scores[a * nC];
    for (let k = 1; k < nI; k++) if (scores[a * nC + k] > best) { best = scores[a * nC + k]; c = k; }
    const thr = threshold === null ? pmeta.thresholds[c] : threshold;
    const b = [boxes[a * 4], boxes[a * 4 + 1], boxes[a * 4 + 2], boxes[a * 4 + 3]];
    const side = Math.min(Math.fround(b[2] - b[0]), Math.fround(b[3] - b[1]));  // float32 like the network's
    if (best >= thr && side >= pmeta.min_side) cand.push({box: b, score: best, cls: c, i: a});
  }
  return nmsKeep(cand, pmeta, pmeta.max_detections);
}

// the end of postprocess(): highest score first (argsort(-s, kind="stable")), at most max_candidates, greedy
// class-agnostic NMS, at most `max` kept
function nmsKeep(cand, pmeta, max) {
  cand.sort((x, y) => (y.score - x.score) || (x.i - y.i));
  let order = cand.slice(0, pmeta.max_candidates);
  const keep = [];
  while (order.length) {
    const top = order[0];
    keep.push(top);
    order = order.slice(1).filter((o) => iou(top.box, o.box) <= pmeta.nms_iou);
  }
  return keep.slice(0, max);
}

// boxes_to_original(): input pixels -> pixels of the letterboxed image (clipped), then scaled to ow x oh
export function boxesToOriginal(boxes, lb, ow = null, oh = null) {
  return boxes.map((b) => {
    const x = [(b[0] - lb.pad_x) / lb.scale, (b[1] - lb.pad_y) / lb.scale, (b[2] - lb.pad_x) / lb.scale, (b[3] - lb.pad_y) / lb.scale];
    const o = [0, 1, 2, 3].map((k) => Math.min(Math.max(x[k], 0), k % 2 ? lb.height : lb.width));
    if (ow && oh) { o[0] *= ow / lb.width; o[2] *= ow / lb.width; o[1] *= oh / lb.height; o[3] *= oh / lb.height; }
    return o;
  });
}

// crop_box(): one insect with some context, size x size, what the labeler sees
export function cropBox(img, box, size, context) {
  const {w, h} = img;
  let [x0, y0, x1, y1] = box;
  const bw = Math.max(x1 - x0, 1), bh = Math.max(y1 - y0, 1);
  x0 = Math.max(0, Math.floor(x0 - context * bw)); x1 = Math.min(w, Math.ceil(x1 + context * bw));
  y0 = Math.max(0, Math.floor(y0 - context * bh)); y1 = Math.min(h, Math.ceil(y1 + context * bh));
  if (x1 - x0 < 2) { x0 = Math.max(0, Math.min(x0, w - 2)); x1 = x0 + 2; }
  if (y1 - y0 < 2) { y0 = Math.max(0, Math.min(y0, h - 2)); y1 = y0 + 2; }
  const c = cropImage(img, x0, y0, x1, y1);
  return resize(c, size, size, Math.min(c.w, c.h) > size ? 'area' : 'linear');
}

// leafscout.pests.pest_counts and pest_actions, from the build's templates (checked there for every count)
export function pestCounts(pests) {
  const m = new Map();
  for (const p of pests) m.set(p.label, (m.get(p.label) || 0) + 1);
  return Object.fromEntries([...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}

export function pestActions(pmeta, counts) {
  const {templates, by_count: byCount} = pmeta.actions;
  return Object.entries(counts).map(([label, n]) => {
    const t = templates[byCount[label][Math.min(n, byCount[label].length) - 1]];
    const text = Object.fromEntries(Object.entries(t.text).map(([lang, s]) => [lang, s.split('{count}').join(String(n))]));
    return {...t, count: n, text};
  });
}

// ------------------------------------------------------------------------------------------ leaves (a scene detector)
// A scene detector (model/detect.py: trained with --leaves) has one more, last class, plant.leaf. On a field photo
// (the leaf locator found no plain backdrop) the service answers from the whole photo and up to `votes` of its
// leaves, each named on its own (leafscout/service.py _wrap, model/runtime.py Predictor.with_leaves). Ported here
// with the same numbers, all from pests.json; tests/test_phone_leaves.py compares them with Python's.

// Whether the installed detector finds leaves (pest_bundle: leaf_threshold is null for an insect-only detector).
export function hasLeaves(pmeta) {
  return !!pmeta && pmeta.leaf_threshold !== null && pmeta.leaf_threshold !== undefined && !!pmeta.leaves;
}

// Detector._leaves before boxes_to_original: postprocess() on the leaf column alone (the one after the insects'),
// with the leaf threshold, NMS, at most leaves.max_boxes -> [{box, score, i}] in input pixels, highest first
export function decodeLeaves(scores, boxes, nA, nC, pmeta) {
  const k = pmeta.labels.length;
  if (!hasLeaves(pmeta) || nC <= k) return [];
  const thr = pmeta.leaf_threshold, cand = [];
  for (let a = 0; a < nA; a++) {
    const s = scores[a * nC + k], b = [boxes[a * 4], boxes[a * 4 + 1], boxes[a * 4 + 2], boxes[a * 4 + 3]];
    const side = Math.min(Math.fround(b[2] - b[0]), Math.fround(b[3] - b[1]));  // float32 like the network's
    if (s >= thr && side >= pmeta.min_side) cand.push({box: b, score: s, cls: k, i: a});
  }
  return nmsKeep(cand, pmeta, pmeta.leaves.max_boxes);
}

// Scene.leaf_crop's rectangle: the box (original photo's pixels) times `scale` (decoded pixels per original
// pixel), `context` x its size added on each side, Python's int() truncation, then numpy's slice clamping
export function leafCropRect(w, h, box, scale, context) {
  const [bx0, by0, bx1, by1] = box.map((v) => v * scale);
  const mx = (bx1 - bx0) * context, my = (by1 - by0) * context;
  const x0 = Math.trunc(Math.max(0, bx0 - mx)), y0 = Math.trunc(Math.max(0, by0 - my));
  const x1 = Math.trunc(Math.min(w, bx1 + mx + 1)), y1 = Math.trunc(Math.min(h, by1 + my + 1));
  const cx0 = Math.min(x0, w), cy0 = Math.min(y0, h);
  return [cx0, cy0, Math.max(cx0, Math.min(x1, w)), Math.max(cy0, Math.min(y1, h))];
}

// the leaf's pixels (null when the rectangle is empty: a box squeezed to nothing at the photo's edge)
export function leafCrop(img, box, scale, context) {
  const [x0, y0, x1, y1] = leafCropRect(img.w, img.h, box, scale, context);
  return x1 > x0 && y1 > y0 ? cropImage(img, x0, y0, x1, y1) : null;
}

// The service's choice of voters: the first leaves (highest score first) whose crop is at least min_crop_side
// on its shorter side, at most `votes` -> [{leaf, crop}]. A smaller leaf shows no lesion worth a vote.
export function leafVoters(scene, rule) {
  const out = [];
  for (const leaf of scene.leaves) {
    if (out.length >= rule.votes) break;
    const crop = leafCrop(scene.photo, leaf.box, scene.scale, rule.context);
    if (crop && Math.min(crop.w, crop.h) >= rule.min_crop_side) out.push({leaf, crop});
  }
  return out;
}

// np.mean(rows, axis=0) of float32 rows: numpy adds the rows one after another in float32, then divides by
// their count in float32
export function meanLogits(rows) {
  const n = rows[0].length, out = new Float32Array(n);
  for (let c = 0; c < n; c++) {
    let s = Math.fround(rows[0][c]);
    for (let r = 1; r < rows.length; r++) s = Math.fround(s + rows[r][c]);
    out[c] = Math.fround(s / rows.length);
  }
  return out;
}

// Python's round(x, nd): the decimal nearest to x's exact value, an exact tie to the even neighbour. toFixed
// rounds x's exact value too but sends ties up; a tie has exactly nd + 1 binary fraction digits.
export function pyRoundN(x, nd) {
  if (!Number.isFinite(x)) return x;
  const sign = x < 0 ? -1 : 1, a = Math.abs(x), k = a * 2 ** (nd + 1);
  if (Number.isInteger(k) && k % 2 === 1 && k < 2 ** 40) {
    const y = (k * 5 ** nd) / 2, f = Math.floor(y);  // exact: a half-integer
    return sign * ((f % 2 === 0 ? f : f + 1) / 10 ** nd);
  }
  return sign * Number(a.toFixed(nd));
}

// Predictor.with_leaves: each leaf crop through the path a photo of its own takes (prepare: locator, geometry,
// normalisation; plant share), one batched inference (`inferBatch(tensor, n)` -> logits [n x C]), each leaf
// decided alone, and the answer decided from the mean of the whole photo's logits and the leaves'. Returns
// `whole` with its decision replaced and `leaves` filled ({box, score, label, confidence, status}, rounded as
// Python's Result.leaves); whole's framing, plant share and crop stay.
export async function withLeaves(meta, whole, leaves, crops, inferBatch, topK = 3) {
  if (whole.status === 'error' || !whole.logits || !leaves.length) return whole;
  const preps = crops.map((c) => prepare(c, meta));
  const size = preps[0].tensor.length, batch = new Float32Array(size * preps.length);
  preps.forEach((p, i) => batch.set(p.tensor, i * size));
  const flat = await inferBatch(batch, preps.length), nL = meta.labels.length;
  const logits = preps.map((_, i) => flat.slice(i * nL, (i + 1) * nL));
  const crop = whole.crop || null;
  const named = logits.map((lg, i) => decide(meta, lg, topK, preps[i].plant, crop));
  const mean = meanLogits([whole.logits, ...logits]);
  const plant = whole.plant_share === undefined ? null : whole.plant_share;
  const d = decide(meta, mean, topK, plant, crop);
  const each = leaves.map((lf, i) => ({box: lf.box.map((v) => pyRoundN(v, 1)), score: pyRoundN(lf.score, 4),
    label: named[i].label, confidence: named[i].confidence === null ? null : pyRoundN(named[i].confidence, 4),
    status: named[i].status}));
  return {...whole, ...d, logits: Array.from(mean), leaves: each};
}
