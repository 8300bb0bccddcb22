# virtlab sweep: tests/test_sweep_slurm.c starts a one-node Slurm
# cluster (munged, slurmctld, slurmd) on loopback to run a sweep through
# `sbatch --wait`; the sweep itself needs only sbatch on PATH, at run time.
TEST_DEB_DEPS += slurm-wlm munge
