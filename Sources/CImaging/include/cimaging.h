// cimaging.h — PNG and JPEG through libpng and libjpeg-turbo, with every library error turned into
// a return code and a message (their longjmp-based error handling never reaches Swift).
#ifndef CIMAGING_H
#define CIMAGING_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// A decoded image: interleaved RGB, `bit_depth` 8 (uint8 samples) or 16 (native-endian uint16).
typedef struct {
  void *pixels;
  int width;
  int height;
  int bit_depth;
  int source_channels;  // channels in the file: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA/CMYK
} ci_image;

enum { CI_FORMAT_UNKNOWN = 0, CI_FORMAT_PNG = 1, CI_FORMAT_JPEG = 2 };

/// The format from the first bytes (magic numbers, not the file name).
int ci_sniff(const uint8_t *data, size_t size);

/// Decodes PNG or JPEG to RGB; rejects images over `max_pixels`. Returns 0 on success, else writes
/// a message into `err`.
int ci_decode(const uint8_t *data, size_t size, uint64_t max_pixels, ci_image *out, char *err,
              size_t err_cap);
void ci_image_free(ci_image *image);

/// Encodes 8-bit interleaved RGB. The output buffer is released with ci_buffer_free.
int ci_encode_png(const uint8_t *rgb, int width, int height, uint8_t **out, size_t *out_size,
                  char *err, size_t err_cap);
int ci_encode_jpeg(const uint8_t *rgb, int width, int height, int quality, uint8_t **out,
                   size_t *out_size, char *err, size_t err_cap);
void ci_buffer_free(uint8_t *buffer);

#ifdef __cplusplus
}
#endif

#endif
