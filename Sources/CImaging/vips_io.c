#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vips/vips.h>

#include "cimaging.h"

static int init_status = 0;

// libvips reports through vips_error_buffer, which every caller here turns into its error; its
// warnings (a damaged tile before the error, a profile it drops) would only add unlabelled lines.
static void drop_message(const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer data) {
  (void)domain, (void)level, (void)message, (void)data;
}

static void init_once(void) {
  init_status = VIPS_INIT("fmboost");
  g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO, drop_message, NULL);
  // Nothing is read twice: libvips' operation cache would only hold decoded images.
  vips_cache_set_max(0);
}

static int set_error(char *err, size_t cap, const char *format, ...) {
  if (err && cap > 0) {
    va_list args;
    va_start(args, format);
    vsnprintf(err, cap, format, args);
    va_end(args);
  }
  return 1;
}

// libvips' message (its last line, without the trailing newline), cleared.
static int vips_failure(char *err, size_t cap, const char *what) {
  char text[512];
  snprintf(text, sizeof text, "%s", vips_error_buffer());
  vips_error_clear();
  size_t n = strlen(text);
  while (n > 0 && text[n - 1] == '\n') text[--n] = 0;
  return set_error(err, cap, "%s: %s", what, n ? text : "libvips failed");
}

static int ready(char *err, size_t cap) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, init_once);
  return init_status == 0 ? 0 : set_error(err, cap, "libvips could not start");
}

int ci_sniff(const uint8_t *data, size_t size) {
  static const uint8_t png_magic[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  if (size >= 8 && memcmp(data, png_magic, 8) == 0) return CI_FORMAT_PNG;
  if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) return CI_FORMAT_JPEG;
  if (size >= 12 && memcmp(data, "RIFF", 4) == 0 && memcmp(data + 8, "WEBP", 4) == 0) return CI_FORMAT_WEBP;
  if (size >= 4 && (memcmp(data, "II*\0", 4) == 0 || memcmp(data, "MM\0*", 4) == 0)) return CI_FORMAT_TIFF;
  return CI_FORMAT_UNKNOWN;
}

static const char *format_name(int format) {
  switch (format) {
    case CI_FORMAT_PNG: return "PNG";
    case CI_FORMAT_JPEG: return "JPEG";
    case CI_FORMAT_WEBP: return "WebP";
    case CI_FORMAT_TIFF: return "TIFF";
    default: return "image";
  }
}

// The lazily decoded image (header read, no pixels yet), with its EXIF orientation applied.
static VipsImage *open_oriented(const uint8_t *data, size_t size, int *format, char *err, size_t cap) {
  if (ready(err, cap)) return NULL;
  *format = ci_sniff(data, size);
  VipsImage *image = NULL;
  int status = -1;
  switch (*format) {
    case CI_FORMAT_PNG: status = vips_pngload_buffer((void *)data, size, &image, "fail_on", VIPS_FAIL_ON_ERROR, NULL); break;
    case CI_FORMAT_JPEG: status = vips_jpegload_buffer((void *)data, size, &image, "fail_on", VIPS_FAIL_ON_ERROR, NULL); break;
    case CI_FORMAT_WEBP: status = vips_webpload_buffer((void *)data, size, &image, "fail_on", VIPS_FAIL_ON_ERROR, NULL); break;
    case CI_FORMAT_TIFF: status = vips_tiffload_buffer((void *)data, size, &image, "fail_on", VIPS_FAIL_ON_ERROR, NULL); break;
    default:
      if (size == 0) set_error(err, cap, "the file is empty");
      else set_error(err, cap, "not a PNG, JPEG, WebP or TIFF file (unrecognised signature)");
      return NULL;
  }
  if (status != 0) {
    vips_failure(err, cap, format_name(*format));
    return NULL;
  }
  VipsImage *rotated = NULL;
  if (vips_autorot(image, &rotated, NULL) != 0) {
    g_object_unref(image);
    vips_failure(err, cap, format_name(*format));
    return NULL;
  }
  g_object_unref(image);
  return rotated;
}

int ci_header(const uint8_t *data, size_t size, int *width, int *height, char *err, size_t err_cap) {
  int format;
  VipsImage *image = open_oriented(data, size, &format, err, err_cap);
  if (!image) return 1;
  *width = vips_image_get_width(image);
  *height = vips_image_get_height(image);
  g_object_unref(image);
  return 0;
}

static uint8_t *copy_blob(VipsImage *image, const char *name, size_t *size) {
  const void *blob;
  size_t length;
  *size = 0;
  if (!vips_image_get_typeof(image, name) || vips_image_get_blob(image, name, &blob, &length) != 0 || length == 0) {
    vips_error_clear();
    return NULL;
  }
  uint8_t *copy = malloc(length);
  if (!copy) return NULL;
  memcpy(copy, blob, length);
  *size = length;
  return copy;
}

// Replaces *image by f(*image); 0 on success.
#define STEP(call)                   \
  do {                               \
    VipsImage *next = NULL;          \
    if ((call) != 0) goto fail;      \
    g_object_unref(image);           \
    image = next;                    \
  } while (0)

int ci_decode(const uint8_t *data, size_t size, uint64_t max_pixels, ci_image *out, char *err,
              size_t err_cap) {
  memset(out, 0, sizeof(*out));
  int format;
  VipsImage *image = open_oriented(data, size, &format, err, err_cap);
  if (!image) return 1;
  const uint64_t width = (uint64_t)vips_image_get_width(image), height = (uint64_t)vips_image_get_height(image);
  if (width * height > max_pixels) {
    g_object_unref(image);
    return set_error(err, err_cap, "%s: %llu×%llu pixels is over the pixel limit (%llu)", format_name(format),
                     (unsigned long long)width, (unsigned long long)height, (unsigned long long)max_pixels);
  }
  out->icc = copy_blob(image, VIPS_META_ICC_NAME, &out->icc_size);
  out->exif = copy_blob(image, VIPS_META_EXIF_NAME, &out->exif_size);
  {
    const VipsInterpretation space = vips_image_get_interpretation(image);
    const int grey = space == VIPS_INTERPRETATION_B_W || space == VIPS_INTERPRETATION_GREY16;
    const int alpha = vips_image_hasalpha(image);
    const int deep = vips_image_get_format(image) != VIPS_FORMAT_UCHAR;
    // CMYK, Lab and the like become sRGB (through the embedded profile where there is one); samples
    // other than 8- and 16-bit unsigned become 16-bit.
    if (!grey && space != VIPS_INTERPRETATION_sRGB && space != VIPS_INTERPRETATION_RGB16)
      STEP(vips_colourspace(image, &next, deep ? VIPS_INTERPRETATION_RGB16 : VIPS_INTERPRETATION_sRGB, NULL));
    else if (deep && vips_image_get_format(image) != VIPS_FORMAT_USHORT)
      STEP(vips_colourspace(image, &next, grey ? VIPS_INTERPRETATION_GREY16 : VIPS_INTERPRETATION_RGB16, NULL));
    // Colour (and alpha) only: extra bands beyond them are dropped.
    const int wanted = (grey ? 1 : 3) + (alpha ? 1 : 0);
    if (vips_image_get_bands(image) > wanted) STEP(vips_extract_band(image, &next, 0, "n", wanted, NULL));
    if (vips_image_get_bands(image) < wanted) goto fail_shape;
  }
  size_t length = 0;
  void *pixels = vips_image_write_to_memory(image, &length);
  if (!pixels) goto fail;
  out->pixels = pixels;
  out->width = vips_image_get_width(image);
  out->height = vips_image_get_height(image);
  out->channels = vips_image_get_bands(image);
  out->bit_depth = vips_image_get_format(image) == VIPS_FORMAT_USHORT ? 16 : 8;
  out->format = format;
  g_object_unref(image);
  return 0;
fail:
  g_object_unref(image);
  ci_image_free(out);
  return vips_failure(err, err_cap, format_name(format));
fail_shape:
  g_object_unref(image);
  ci_image_free(out);
  return set_error(err, err_cap, "%s: unsupported band layout", format_name(format));
}

void ci_image_free(ci_image *image) {
  if (!image) return;
  g_free(image->pixels);
  free(image->icc);
  free(image->exif);
  image->pixels = NULL;
  image->icc = image->exif = NULL;
}

int ci_encode(const ci_image *source, int format, int quality, uint8_t **out, size_t *out_size, char *err,
              size_t err_cap) {
  *out = NULL;
  *out_size = 0;
  if (ready(err, err_cap)) return 1;
  const int channels = source->channels, deep = source->bit_depth == 16;
  if (channels < 1 || channels > 4 || source->width < 1 || source->height < 1 || (source->bit_depth != 8 && !deep))
    return set_error(err, err_cap, "cannot encode %d channels of %d bits at %d×%d", channels, source->bit_depth,
                     source->width, source->height);
  const size_t bytes = (size_t)source->width * source->height * channels * (deep ? 2 : 1);
  VipsImage *image = vips_image_new_from_memory(source->pixels, bytes, source->width, source->height, channels,
                                                deep ? VIPS_FORMAT_USHORT : VIPS_FORMAT_UCHAR);
  if (!image) return vips_failure(err, err_cap, format_name(format));
  image->Type = channels <= 2 ? (deep ? VIPS_INTERPRETATION_GREY16 : VIPS_INTERPRETATION_B_W)
                              : (deep ? VIPS_INTERPRETATION_RGB16 : VIPS_INTERPRETATION_sRGB);
  if (source->icc && source->icc_size) vips_image_set_blob_copy(image, VIPS_META_ICC_NAME, source->icc, source->icc_size);
  if (source->exif && source->exif_size) {
    vips_image_set_blob_copy(image, VIPS_META_EXIF_NAME, source->exif, source->exif_size);
    // libvips writes this into the block's Orientation tag: the pixels are upright.
    vips_image_set_int(image, VIPS_META_ORIENTATION, 1);
  }
  // JPEG has no alpha (dropped) and JPEG and WebP no 16-bit samples (rounded to 8 bits).
  if (format == CI_FORMAT_JPEG && (channels == 2 || channels == 4))
    STEP(vips_extract_band(image, &next, 0, "n", channels - 1, NULL));
  if (deep && (format == CI_FORMAT_JPEG || format == CI_FORMAT_WEBP))
    STEP(vips_colourspace(image, &next, channels <= 2 ? VIPS_INTERPRETATION_B_W : VIPS_INTERPRETATION_sRGB, NULL));
  void *buffer = NULL;
  size_t length = 0;
  int status;
  switch (format) {
    case CI_FORMAT_PNG:
      // libpng's adaptive filters and zlib level 3: a third of level 6's time for a 6 % larger file.
      status = vips_pngsave_buffer(image, &buffer, &length, "compression", 3, "filter", VIPS_FOREIGN_PNG_FILTER_ALL,
                                   "bitdepth", deep ? 16 : 8, NULL);
      break;
    case CI_FORMAT_JPEG: status = vips_jpegsave_buffer(image, &buffer, &length, "Q", quality, NULL); break;
    case CI_FORMAT_WEBP: status = vips_webpsave_buffer(image, &buffer, &length, "Q", quality, NULL); break;
    case CI_FORMAT_TIFF:
      status = vips_tiffsave_buffer(image, &buffer, &length, "compression", VIPS_FOREIGN_TIFF_COMPRESSION_DEFLATE,
                                    "predictor", VIPS_FOREIGN_TIFF_PREDICTOR_HORIZONTAL, NULL);
      break;
    default:
      g_object_unref(image);
      return set_error(err, err_cap, "unknown output format %d", format);
  }
  if (status != 0) goto fail;
  g_object_unref(image);
  *out = buffer;
  *out_size = length;
  return 0;
fail:
  g_object_unref(image);
  return vips_failure(err, err_cap, format_name(format));
}

void ci_buffer_free(uint8_t *buffer) { g_free(buffer); }
