/* The hot loops of attn.c, written once over vectors of KW float lanes and
 * included by attn.c once per instruction set (no include guard), each time
 * with its own:
 *   KW           lanes: 16 (AVX-512), 8 (AVX2), 4 (baseline)
 *   KSFX         suffix of the function names
 *   VF, VI, VU   vector types of KW floats, int32s, uint32s
 *   KTARGET      attributes of every function (target ISA)
 *   KTARGET_FMA  those of the exponential (may contract into FMA)
 *   VSTREAM(p, v)  a store that bypasses the caches (p aligned to the vector)
 *   KROWS        query rows of the score tile (<= 12; 2 KROWS + 3 vectors fit
 *                in the ISA's registers)
 *   KQK_DEFAULT  1: qk_tile computes the softmax scores unless AK_ATTN_PRODUCT
 *                says otherwise (where measured faster than OpenBLAS)
 * Vectors as wide as the ISA's registers: wider generic vectors are split by
 * the compiler and spilled (on AVX2, 16-lane code ran 10x slower). All the
 * arithmetic is IEEE float in a fixed order: no FMA contraction except in
 * the exponential (see attn.c), maxima and sums reduced over fixed lanes.
 * Vector helpers are macros (attn.c): GCC warns (-Wpsabi) about functions
 * that pass vectors wider than the baseline's registers. */

#define KN(name) KCAT(name, KSFX)

/* Minimum and maximum of s[0 .. n), n >= 1. Four running pairs: one would
 * be a chain of dependent compares. */
KTARGET static void KN(row_minmax)(const float *s, int64_t n, float *lo, float *hi)
{
	VF m0 = (VF){ 0 } - INFINITY, m1 = m0, m2 = m0, m3 = m0, v;
	VF l0 = (VF){ 0 } + INFINITY, l1 = l0, l2 = l0, l3 = l0;
	int64_t j = 0;
	for (; j + 4 * KW <= n; j += 4 * KW) {
		VLOAD(v, s + j);
		m0 = VSEL(v > m0, v, m0);
		l0 = VSEL(v < l0, v, l0);
		VLOAD(v, s + j + KW);
		m1 = VSEL(v > m1, v, m1);
		l1 = VSEL(v < l1, v, l1);
		VLOAD(v, s + j + 2 * KW);
		m2 = VSEL(v > m2, v, m2);
		l2 = VSEL(v < l2, v, l2);
		VLOAD(v, s + j + 3 * KW);
		m3 = VSEL(v > m3, v, m3);
		l3 = VSEL(v < l3, v, l3);
	}
	for (; j + KW <= n; j += KW) {
		VLOAD(v, s + j);
		m0 = VSEL(v > m0, v, m0);
		l0 = VSEL(v < l0, v, l0);
	}
	m0 = VSEL(m1 > m0, m1, m0);
	m2 = VSEL(m3 > m2, m3, m2);
	m0 = VSEL(m2 > m0, m2, m0);
	l0 = VSEL(l1 < l0, l1, l0);
	l2 = VSEL(l3 < l2, l3, l2);
	l0 = VSEL(l2 < l0, l2, l0);
	float r = -INFINITY, q = INFINITY;
	for (; j < n; j++) {
		r = s[j] > r ? s[j] : r;
		q = s[j] < q ? s[j] : q;
	}
	for (int l = 0; l < KW; l++) {
		r = m0[l] > r ? m0[l] : r;
		q = l0[l] < q ? l0[l] : q;
	}
	*lo = q;
	*hi = r;
}

/* dst <- exp(src - m); returns the sum. dst is aligned to the vector (the
 * streaming stores need it). Each lane adds up to EXP_RUN values in float
 * (values <= 1, so at most ~4e-6 relative error, typically far less), then
 * those partial sums go into float64: cheaper than converting every value,
 * and the order is fixed. lo, the smallest of src, chooses the fast form of
 * the exponential when it applies. */
#define KEXP_LOOP(VEXP) do {                                                      \
		while (j + KW <= n) {                                             \
			VF part = { 0 };                                          \
			for (int c = 0; c < EXP_RUN && j + KW <= n; c++, j += KW) { \
				VF e, v;                                          \
				VLOAD(v, src + j);                                \
				VEXP(e, v - m);                                   \
				VSTREAM(dst + j, e);                              \
				part += e;                                        \
			}                                                         \
			for (int l = 0; l < KW; l++)                              \
				z[l] += part[l];                                  \
		}                                                                 \
	} while (0)

KTARGET_FMA static double KN(exp_sum)(const float *src, float *dst, int64_t n, float m, float lo)
{
	double z[KW] = { 0 };
	int64_t j = 0;
	if (lo - m >= EXP_NORMAL_MIN)
		KEXP_LOOP(VEXP_NORMAL);
	else
		KEXP_LOOP(VEXP_NONPOS);
	double t = 0;
	for (; j < n; j++) {
		dst[j] = exp_nonpos(src[j] - m);
		t += dst[j];
	}
	for (int l = 0; l < KW; l++)
		t += z[l];
	return t;
}
#undef KEXP_LOOP

/* out[j] = sum over h of e[h][j] * w[h], added in head order (the scalar
 * lookups of --at repeat exactly these operations, so a looked-up pair's
 * value is bit-identical to the one that was ranked). */
KTARGET static void KN(combine)(float *restrict out, const float *const *e, const float *w, int nh, int64_t n)
{
	int64_t j = 0;
	for (; j + KW <= n; j += KW) {
		VF a, v;
		VLOAD(a, e[0] + j);
		a = a * w[0];
		for (int h = 1; h < nh; h++) {
			VLOAD(v, e[h] + j);
			a = a + v * w[h];
		}
		VSTORE(out + j, a);
	}
	for (; j < n; j++) {
		float a = e[0][j] * w[0];
		for (int h = 1; h < nh; h++)
			a = a + e[h][j] * w[h];
		out[j] = a;
	}
}

/* Entries v[0 .. cnt) of row `row`, columns col0 .. col0 + cnt - 1, in
 * increasing column order (the selector's tie rule relies on it): their
 * keys go to the selector, to the key range seen (finiteness) and, when
 * pairs are looked up, to c->keys for the rank histogram. */
KTARGET static void KN(scan_range)(scan_t *c, const float *v, int32_t row, int64_t col0, int64_t cnt)
{
	uint32_t kmin = c->kmin, kmax = c->kmax;
	int64_t j = 0;
	if (j + KW <= cnt) {
		VF x;
		VU k, mx, mn;
		VLOAD(x, v + j);
		VKEY(mx, x, c->absval);
		mn = mx;
		for (; j + KW <= cnt; j += KW) {
			VLOAD(x, v + j);
			VKEY(k, x, c->absval);
			mx = VUMAX(k, mx);
			mn = VUMIN(k, mn);
			if (c->kh)
				VSTORE(c->keys + c->nkeys + j, k);
			VU ge = (VU)(k >= c->tb->thr);
			uint64_t any = 0;
			for (int l = 0; l < KW; l++)
				any |= ge[l];
			if (any)
				for (int l = 0; l < KW; l++)
					tk_push(c->tb, k[l], row, (int32_t)(col0 + j + l), v[j + l] + 0.0f);
		}
		for (int l = 0; l < KW; l++) {
			kmin = mn[l] < kmin ? mn[l] : kmin;
			kmax = mx[l] > kmax ? mx[l] : kmax;
		}
	}
	for (; j < cnt; j++) {
		uint32_t k = tk_key(rank_value(v[j], c->absval));
		kmin = k < kmin ? k : kmin;
		kmax = k > kmax ? k : kmax;
		if (c->kh)
			c->keys[c->nkeys + j] = k;
		tk_push(c->tb, k, row, (int32_t)(col0 + j), v[j] + 0.0f);
	}
	if (c->kh)
		c->nkeys += (size_t)cnt;
	c->kmin = kmin;
	c->kmax = kmax;
}

/* Scores of KROWS query rows (q: KROWS x dk, row stride dk) against keys
 * [j0, j0 + ncols) of one head, keys packed in panels of 16 (pack_keys:
 * key j's component t at kp[(j / 16) * 16 dk + 16 t + j % 16], zero
 * beyond n, one spare panel): out[r * ldo + j - j0], ncols rounded up to
 * 2 KW (the extra columns are scores of padding, ignored). j0 is a
 * multiple of 16, so that no vector straddles two panels. A register tile
 * of KROWS x 2 vectors: each key vector loaded once per component serves
 * every row, each query component is broadcast once per vector pair; the
 * tile stays in registers over all of dk. Every score is the same chain of
 * multiply-adds over t = 0 .. dk - 1 whichever thread computes it. Also
 * each row's minimum and maximum score (lo[r], hi[r]), from the registers:
 * no second pass over the tile. */
#define QK_ROW(r)                                                                  \
	if ((r) < KROWS) {                                                         \
		VF a_ = (VF){ 0 } + q[(r) * dk + t];                               \
		c##r##a = c##r##a + a_ * b0;                                       \
		c##r##b = c##r##b + a_ * b1;                                       \
	}
#define QK_OUT(r)                                                                  \
	if ((r) < KROWS) {                                                         \
		VSTORE(out + (r) * ldo + j, c##r##a);                              \
		VSTORE(out + (r) * ldo + j + KW, c##r##b);                         \
		if (j + 2 * KW <= ncols) {                                         \
			VF u_ = VSEL(c##r##b > c##r##a, c##r##b, c##r##a);        \
			VF w_ = VSEL(c##r##b < c##r##a, c##r##b, c##r##a);        \
			hv[r] = VSEL(u_ > hv[r], u_, hv[r]);                       \
			lv[r] = VSEL(w_ < lv[r], w_, lv[r]);                       \
		}                                                                  \
	}
KTARGET_FMA static void KN(qk_tile)(const float *restrict q, int64_t dk, const float *restrict kp,
				   int64_t j0, int64_t ncols, float *restrict out, int64_t ldo,
				   float *restrict lo, float *restrict hi)
{
	VF hv[KROWS], lv[KROWS];
	for (int r = 0; r < KROWS; r++) {
		hv[r] = (VF){ 0 } - INFINITY;
		lv[r] = (VF){ 0 } + INFINITY;
	}
	int64_t j = 0;
	for (; j < ncols; j += 2 * KW) {
		int64_t ja = j0 + j, jb = ja + KW;
		const float *pa = kp + (ja / 16) * 16 * dk + ja % 16;
		const float *pb = kp + (jb / 16) * 16 * dk + jb % 16;
		VF c0a = { 0 }, c0b = { 0 }, c1a = { 0 }, c1b = { 0 }, c2a = { 0 }, c2b = { 0 };
		VF c3a = { 0 }, c3b = { 0 }, c4a = { 0 }, c4b = { 0 }, c5a = { 0 }, c5b = { 0 };
		VF c6a = { 0 }, c6b = { 0 }, c7a = { 0 }, c7b = { 0 }, c8a = { 0 }, c8b = { 0 };
		VF c9a = { 0 }, c9b = { 0 }, c10a = { 0 }, c10b = { 0 }, c11a = { 0 }, c11b = { 0 };
		for (int64_t t = 0; t < dk; t++) {
			VF b0, b1;
			VLOAD(b0, pa + 16 * t);
			VLOAD(b1, pb + 16 * t);
			QK_ROW(0) QK_ROW(1) QK_ROW(2) QK_ROW(3) QK_ROW(4) QK_ROW(5)
			QK_ROW(6) QK_ROW(7) QK_ROW(8) QK_ROW(9) QK_ROW(10) QK_ROW(11)
		}
		QK_OUT(0) QK_OUT(1) QK_OUT(2) QK_OUT(3) QK_OUT(4) QK_OUT(5)
		QK_OUT(6) QK_OUT(7) QK_OUT(8) QK_OUT(9) QK_OUT(10) QK_OUT(11)
	}
	/* Each row's minimum and maximum over the first ncols scores: the full
	 * vector pairs were reduced above, the columns of the last partial
	 * pair (followed by padding) are taken one by one. */
	int64_t tail = ncols / (2 * KW) * (2 * KW);
	for (int r = 0; r < KROWS; r++) {
		float h = -INFINITY, l = INFINITY;
		for (int t = 0; t < KW; t++) {
			h = hv[r][t] > h ? hv[r][t] : h;
			l = lv[r][t] < l ? lv[r][t] : l;
		}
		for (int64_t c = tail; c < ncols; c++) {
			float v = out[r * ldo + c];
			h = v > h ? v : h;
			l = v < l ? v : l;
		}
		lo[r] = l;
		hi[r] = h;
	}
}
#undef QK_ROW
#undef QK_OUT

static const kern_t KN(kern) = {
	KN(row_minmax), KN(exp_sum), KN(combine), KN(scan_range), KN(qk_tile), KROWS, KQK_DEFAULT, KSTR(KSFX),
};

#undef KN
#undef KW
#undef KSFX
#undef VF
#undef VI
#undef VU
#undef KTARGET
#undef KTARGET_FMA
#undef VSTREAM
#undef KROWS
#undef KQK_DEFAULT
