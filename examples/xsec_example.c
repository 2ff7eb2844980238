/* Linking libna64 from a C program: the A' cross section and decay length at the X17 mass.
 *   cc xsec_example.c $(pkg-config --cflags --libs na64) -o xsec_example */
#include <stdio.h>

#include <na64/physics.h>

int main(void)
{
  na64_err err = {0};
  double sigma;
  if (na64_xsec_total(NA64_XS_ETL, 100.0, 0.0167, 1e-4, 82, 207.2, &sigma, &err) != NA64_OK) {
    fprintf(stderr, "error: %s\n", err.msg);
    return 1;
  }
  na64_aprime x17 = {0.0167, 1e-4, NA64_DM_NONE, 0, 0, 0};
  double L;
  if (na64_aprime_decay_length(&x17, 100.0, &L, &err) != NA64_OK) {
    fprintf(stderr, "error: %s\n", err.msg);
    return 1;
  }
  printf("sigma_ETL(Pb, 100 GeV, 16.7 MeV, eps=1e-4) = %.1f pb, decay length at 100 GeV = %.1f cm\n", sigma, L);
  return 0;
}
