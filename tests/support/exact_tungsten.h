/* The exact tree-level process of an electron on tungsten (Z 74, A 183.84, every form factor), the
 * element whose x-shape the visible yield takes (src/physics/yield.c heaviest_component), for the
 * tests that compare with it (tests/physics/test_vis_island*.c, test_width_vis_mediators.c). Include
 * after na64/physics.h. */
#ifndef NA64_TEST_EXACT_TUNGSTEN_H
#define NA64_TEST_EXACT_TUNGSTEN_H

/* p: the mediator med of mass m (GeV) from an electron of E0 (GeV) on tungsten, x_min 0 */
static inline void na64_test_exact_tungsten(na64_exact_process *p, na64_mediator med, double E0, double m)
{
  na64_exact_process_init(p, NA64_LEPTON_E, med, E0, m);
  p->Z = 74.0;
  p->A = 183.84;
  p->ff = NA64_FF_ALL;
}

#endif
