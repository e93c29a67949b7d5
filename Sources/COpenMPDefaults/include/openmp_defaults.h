#ifndef FMBOOST_OPENMP_DEFAULTS_H
#define FMBOOST_OPENMP_DEFAULTS_H

/// The GOMP_SPINCOUNT this executable gives libgomp when the user has set neither GOMP_SPINCOUNT
/// nor OMP_WAIT_POLICY.
const char *fmboost_openmp_spin_default(void);

/// 1 when libgomp (or anyone) has been given that default, 0 otherwise.
int fmboost_openmp_spin_default_applied(void);

#endif
