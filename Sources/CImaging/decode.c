#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cimaging.h"
#include "errors.h"

int ci_set_error(char *err, size_t cap, const char *format, ...) {
  if (err && cap > 0) {
    va_list args;
    va_start(args, format);
    vsnprintf(err, cap, format, args);
    va_end(args);
  }
  return 1;
}

int ci_sniff(const uint8_t *data, size_t size) {
  static const uint8_t png_magic[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  if (size >= 8 && memcmp(data, png_magic, 8) == 0) return CI_FORMAT_PNG;
  if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) return CI_FORMAT_JPEG;
  return CI_FORMAT_UNKNOWN;
}

int ci_decode(const uint8_t *data, size_t size, uint64_t max_pixels, ci_image *out, char *err,
              size_t err_cap) {
  memset(out, 0, sizeof(*out));
  switch (ci_sniff(data, size)) {
    case CI_FORMAT_PNG: return ci_decode_png(data, size, max_pixels, out, err, err_cap);
    case CI_FORMAT_JPEG: return ci_decode_jpeg(data, size, max_pixels, out, err, err_cap);
    default:
      if (size == 0) return ci_set_error(err, err_cap, "the file is empty");
      return ci_set_error(err, err_cap, "not a PNG or JPEG file (unrecognised signature)");
  }
}

void ci_image_free(ci_image *image) {
  if (!image) return;
  free(image->pixels);
  image->pixels = NULL;
}

void ci_buffer_free(uint8_t *buffer) { free(buffer); }
