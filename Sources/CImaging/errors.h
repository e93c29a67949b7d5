#ifndef CIMAGING_ERRORS_H
#define CIMAGING_ERRORS_H
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include "cimaging.h"

/// Formats a message into `err` and returns 1 (the failure code).
int ci_set_error(char *err, size_t cap, const char *format, ...);
int ci_decode_png(const uint8_t *data, size_t size, uint64_t max_pixels, ci_image *out, char *err,
                  size_t err_cap);
int ci_decode_jpeg(const uint8_t *data, size_t size, uint64_t max_pixels, ci_image *out, char *err,
                   size_t err_cap);
#endif
