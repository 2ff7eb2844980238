-- Materials of the NA64 setups, valid for every run and setup.
-- Source: PDG "Atomic and nuclear properties of materials" (pdg.lbl.gov/AtomicNuclearProperties):
-- radiation length X0 and nuclear interaction length lambda_I in g/cm^2 divided by the density.
-- Names follow the built-in materials of include/na64/physics.h where they exist.
INSERT INTO materials (first_run, last_run, setup, name, density, x0, lambda_i, comment) VALUES
  (0, NULL, NULL, 'Pb',  11.35,    0.5612,  17.59, 'PDG: X0 6.37 g/cm2, lambda_I 199.6 g/cm2'),
  (0, NULL, NULL, 'W',   19.30,    0.3504,   9.946, 'PDG: X0 6.76 g/cm2, lambda_I 191.9 g/cm2'),
  (0, NULL, NULL, 'Fe',   7.874,   1.757,   16.77, 'PDG: X0 13.84 g/cm2, lambda_I 132.1 g/cm2'),
  (0, NULL, NULL, 'Sc',   1.060,  41.31,    77.07, 'polystyrene scintillator, PDG: X0 43.79 g/cm2, lambda_I 81.7 g/cm2'),
  (0, NULL, NULL, 'Kapton', 1.42, 28.58,    56.7, 'polyimide straw wall, PDG: X0 40.58 g/cm2; lambda_I approximate'),
  (0, NULL, NULL, 'Air',  1.205e-3, 30390.0, 74770.0, 'dry air at 20 C, PDG: X0 36.62 g/cm2, lambda_I 90.1 g/cm2'),
  (0, NULL, NULL, 'ArCO2', 1.716e-3, 13370.0, 62000.0,
   'ESTIMATE: Ar/CO2 70/30 by volume at 20 C; X0 and lambda_I combined from Ar and CO2 by mass fraction (0.679/0.321)');
