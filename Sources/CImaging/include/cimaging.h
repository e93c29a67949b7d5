// cimaging.h — image files through libvips (PNG, JPEG, WebP, TIFF), with every library error turned
// into a return code and a message. Only these four loaders are ever called: the format is sniffed
// from the bytes here, so no other libvips loader (SVG, PDF, ImageMagick, ...) sees untrusted input.
#ifndef CIMAGING_H
#define CIMAGING_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { CI_FORMAT_UNKNOWN = 0, CI_FORMAT_PNG = 1, CI_FORMAT_JPEG = 2, CI_FORMAT_WEBP = 3, CI_FORMAT_TIFF = 4 };

/// An image as displayed: interleaved samples, `channels` per pixel (1 grey, 2 grey + alpha, 3 RGB,
/// 4 RGBA), `bit_depth` 8 (uint8) or 16 (native-endian uint16). `icc` and `exif` are the file's ICC
/// profile and EXIF block (NULL when it has none); its EXIF orientation is already applied to the pixels.
typedef struct {
  void *pixels;
  int width;
  int height;
  int channels;
  int bit_depth;
  int format;
  uint8_t *icc;
  size_t icc_size;
  uint8_t *exif;
  size_t exif_size;
} ci_image;

/// The format from the first bytes (magic numbers, not the file name).
int ci_sniff(const uint8_t *data, size_t size);

/// The displayed size (EXIF orientation applied) of the image in `data`, from its header only.
int ci_header(const uint8_t *data, size_t size, int *width, int *height, char *err, size_t err_cap);

/// Decodes an image, refusing over `max_pixels` before any pixel is decoded. CMYK and other colour
/// spaces become sRGB, other sample types 16-bit. Returns 0 on success, else writes a message into `err`.
int ci_decode(const uint8_t *data, size_t size, uint64_t max_pixels, ci_image *out, char *err,
              size_t err_cap);
/// Frees what ci_decode allocated (pixels and metadata).
void ci_image_free(ci_image *image);

/// Encodes `image` (pixels, size, channels, bit depth, and the ICC profile and EXIF block when set) as
/// `format`; `quality` 1-100 for JPEG and WebP (lossy). JPEG and WebP are written at 8 bits; JPEG
/// without alpha. The output is released with ci_buffer_free.
int ci_encode(const ci_image *image, int format, int quality, uint8_t **out, size_t *out_size, char *err,
              size_t err_cap);
void ci_buffer_free(uint8_t *buffer);

#ifdef __cplusplus
}
#endif

#endif
