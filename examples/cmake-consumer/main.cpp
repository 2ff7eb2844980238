// The C API used from C++: the headers carry extern "C" guards.
#include <cstdio>
#include <na64/physics.h>

int main()
{
  na64_material ecal;
  na64_err err{};
  if (na64_material_get("ECAL", &ecal, &err) != NA64_OK) {
    std::fprintf(stderr, "%s\n", err.msg);
    return 1;
  }
  double inv_cm = 0;
  if (na64_xsec_macroscopic(NA64_XS_ETL, &ecal, 100.0, 0.0167, 1e-4, &inv_cm, &err) != NA64_OK) {
    std::fprintf(stderr, "%s\n", err.msg);
    return 1;
  }
  std::printf("ECAL X0 = %.3f cm, A' mean free path = %.3g cm\n", ecal.X0, 1.0 / inv_cm);
  return 0;
}
