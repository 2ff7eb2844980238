/* The run-time choice between a SIMD path and its SSE2 twin (same bits on both; src/sim/ecal_shape.c
 * corners, src/sim/fast_digi.c waveforms). The switch is -1 until the first use decides it from the
 * CPU (atomic: every thread may store the same value); tests set it to 0 or 1 to compare the paths.
 * The SIMD path is taken only where the CPU has the instructions, whatever the switch says. */
#ifndef NA64_SIM_SIMD_SWITCH_H
#define NA64_SIM_SIMD_SWITCH_H
#include <stdatomic.h>

static inline int sim_simd_enabled(atomic_int *sw, int cpu_has)
{
  int use = atomic_load_explicit(sw, memory_order_relaxed);
  if (use < 0) {
    use = cpu_has ? 1 : 0;
    atomic_store_explicit(sw, use, memory_order_relaxed);
  }
  return use && cpu_has;
}
#endif
