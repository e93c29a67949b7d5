#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

#include "cimaging.h"
#include "errors.h"

typedef struct {
  struct jpeg_error_mgr base;
  jmp_buf jump;
  char *err;
  size_t cap;
} error_manager;

static void on_error_exit(j_common_ptr cinfo) {
  error_manager *m = (error_manager *)cinfo->err;
  char message[JMSG_LENGTH_MAX];
  m->base.format_message(cinfo, message);
  ci_set_error(m->err, m->cap, "JPEG: %s", message);
  longjmp(m->jump, 1);
}

// A truncated file is only a warning to libjpeg (it pads with grey); for us it is an error.
static void on_message(j_common_ptr cinfo, int level) {
  if (level == -1 && cinfo->err->msg_code == JWRN_JPEG_EOF) on_error_exit(cinfo);
  if (level == -1) cinfo->err->num_warnings++;
}

int ci_decode_jpeg(const uint8_t *data, size_t size, uint64_t max_pixels, ci_image *out, char *err,
                   size_t err_cap) {
  struct jpeg_decompress_struct cinfo;
  error_manager em;
  uint8_t *volatile pixels = NULL;
  uint8_t *volatile row = NULL;
  cinfo.err = jpeg_std_error(&em.base);
  em.base.error_exit = on_error_exit;
  em.base.emit_message = on_message;
  em.err = err;
  em.cap = err_cap;
  if (setjmp(em.jump)) {
    free(pixels);
    free(row);
    jpeg_destroy_decompress(&cinfo);
    return 1;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, (unsigned long)size);
  jpeg_read_header(&cinfo, TRUE);
  out->source_channels = cinfo.num_components;
  int cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
  cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
  if ((uint64_t)cinfo.image_width * cinfo.image_height > max_pixels) {
    ci_set_error(err, err_cap, "JPEG: image is larger than the pixel limit");
    longjmp(em.jump, 1);
  }
  jpeg_start_decompress(&cinfo);
  size_t width = cinfo.output_width, height = cinfo.output_height;
  int components = cinfo.output_components;
  pixels = malloc(width * height * 3);
  row = malloc(width * (size_t)components);
  if (!pixels || !row) {
    ci_set_error(err, err_cap, "JPEG: out of memory");
    longjmp(em.jump, 1);
  }
  while (cinfo.output_scanline < cinfo.output_height) {
    size_t y = cinfo.output_scanline;
    JSAMPROW rows[1] = {row};
    jpeg_read_scanlines(&cinfo, rows, 1);
    uint8_t *dst = pixels + y * width * 3;
    if (cmyk) {
      // Adobe writes inverted CMYK: R = C·K / 255 on the stored values.
      for (size_t x = 0; x < width; x++) {
        unsigned k = row[4 * x + 3];
        for (int c = 0; c < 3; c++) dst[3 * x + c] = (uint8_t)((row[4 * x + c] * k + 127) / 255);
      }
    } else {
      memcpy(dst, row, width * 3);
    }
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  free(row);
  out->pixels = pixels;
  out->width = (int)width;
  out->height = (int)height;
  out->bit_depth = 8;
  return 0;
}

int ci_encode_jpeg(const uint8_t *rgb, int width, int height, int quality, uint8_t **out,
                   size_t *out_size, char *err, size_t err_cap) {
  if (width <= 0 || height <= 0) return ci_set_error(err, err_cap, "JPEG: empty image");
  struct jpeg_compress_struct cinfo;
  error_manager em;
  unsigned char *volatile buffer = NULL;
  unsigned long size = 0;
  cinfo.err = jpeg_std_error(&em.base);
  em.base.error_exit = on_error_exit;
  em.err = err;
  em.cap = err_cap;
  if (setjmp(em.jump)) {
    jpeg_destroy_compress(&cinfo);
    free(buffer);
    return 1;
  }
  jpeg_create_compress(&cinfo);
  unsigned char *dest = NULL;
  jpeg_mem_dest(&cinfo, &dest, &size);
  cinfo.image_width = (JDIMENSION)width;
  cinfo.image_height = (JDIMENSION)height;
  cinfo.input_components = 3;
  cinfo.in_color_space = JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW rows[1] = {(JSAMPROW)(rgb + (size_t)cinfo.next_scanline * width * 3)};
    jpeg_write_scanlines(&cinfo, rows, 1);
  }
  jpeg_finish_compress(&cinfo);
  buffer = dest;
  jpeg_destroy_compress(&cinfo);
  *out = buffer;
  *out_size = size;
  return 0;
}
