/* IEEE half precision (float16) and bfloat16 to float32. Both widen
 * exactly: every float16 value (subnormals included) and every bfloat16
 * value is a float32 value, so nothing is rounded on the way in. */
#ifndef AK_HALF_H
#define AK_HALF_H

#include <stdint.h>
#include <string.h>

static inline float ak_f16_to_f32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, man = h & 0x3ffu, bits;
	if (exp == 0x1f) {
		bits = sign | 0x7f800000u | man << 13;          /* infinity, NaN (payload kept) */
	} else if (exp == 0) {
		/* zero or subnormal: man * 2^-24, exact in float32 (11 bits) */
		float f = (float)man * 0x1p-24f;
		memcpy(&bits, &f, sizeof bits);
		bits |= sign;
	} else {
		bits = sign | (exp + 112) << 23 | man << 13;    /* rebias 15 -> 127 */
	}
	float f;
	memcpy(&f, &bits, sizeof f);
	return f;
}

/* bfloat16 is the upper half of a float32. */
static inline float ak_bf16_to_f32(uint16_t b)
{
	uint32_t bits = (uint32_t)b << 16;
	float f;
	memcpy(&f, &bits, sizeof f);
	return f;
}

/* Little-endian 16-bit load from any alignment. */
static inline uint16_t ak_le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

#endif
