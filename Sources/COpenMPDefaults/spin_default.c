// libgomp's threads spin 300,000 iterations after every parallel region before they sleep, taking
// both cores from any other process that wants them: two upsamples started together took 2.42-2.45x
// one alone, 2.10-2.12x with GOMP_SPINCOUNT=20000; later, with more and smaller parallel regions
// (convolutions in bands), 2.30-2.33x with 20000 and 2.02x with 5000, which costs nothing alone
// (docs/performance.md, "Threads on a shared machine"). libgomp reads its environment once, in its
// constructor, before main; a setenv from the executable's .preinit_array is undone when glibc's
// initialiser resets environ, and re-executing would repeat libtorch's 0.45 s start-up.
//
// So the executable defines getenv: the dynamic linker binds every library's getenv to the
// executable's, libgomp's constructor included. It reads environ exactly as glibc's does and only
// adds a value for GOMP_SPINCOUNT when the user has set neither GOMP_SPINCOUNT nor OMP_WAIT_POLICY.
// It runs before any constructor of this program, so it uses nothing but environ and libc's string
// functions.
#include "openmp_defaults.h"

#include <stddef.h>
#include <string.h>

extern char **environ;

static const char kSpinCount[] = "GOMP_SPINCOUNT";
static char kDefaultSpinCount[] = "5000";
static int spinDefaultReturned = 0;

static char *lookup(const char *name) {
  if (name == NULL || environ == NULL) return NULL;
  size_t length = strlen(name);
  if (length == 0 || strchr(name, '=') != NULL) return NULL;
  for (char **entry = environ; *entry != NULL; entry++) {
    if (strncmp(*entry, name, length) == 0 && (*entry)[length] == '=') return *entry + length + 1;
  }
  return NULL;
}

char *getenv(const char *name) {
  char *value = lookup(name);
  if (value != NULL || name == NULL || strcmp(name, kSpinCount) != 0) return value;
  if (lookup("OMP_WAIT_POLICY") != NULL) return NULL;
  spinDefaultReturned = 1;
  return kDefaultSpinCount;
}

const char *fmboost_openmp_spin_default(void) { return kDefaultSpinCount; }

int fmboost_openmp_spin_default_applied(void) { return spinDefaultReturned; }
